import type { PipelineDefinition } from './pipeline-definition.js';
import { PipelineError } from '../plugin-api/pipeline-error.js';

/** The built-in stages' names, in their order (the names `after` / `before` may anchor at). */
export const BUILTIN_STAGE_NAMES = ['preprocess', 'adjust', 'train', 'evaluate', 'checkpoint'] as const;

/** Something placed among named stages, with the position its pipeline entry declares. */
export interface AnchoredEntry<T> {
  readonly item: T;
  /** JSON pointer of the entry (`/stages/0`), for errors. */
  readonly path: string;
  readonly after?: string;
  readonly before?: string;
}

/**
 * The one placement rule for plugin stages, shared by the loader (so `engram validate` refuses what a
 * run would) and the run's stage order: each entry goes right after its `after` stage or right before
 * its `before` stage (default: before `checkpoint`); entries anchored at the same place keep their
 * declared order; an entry may anchor at an earlier entry's name. An unknown anchor, or both anchors,
 * is a {@link PipelineError} at the entry's pointer.
 */
export function placeAnchored<T>(
  builtins: readonly T[],
  entries: readonly AnchoredEntry<T>[],
  nameOf: (item: T) => string,
): T[] {
  const order = [...builtins];
  const afterCount = new Map<T, number>();
  for (const p of entries) {
    if (p.after !== undefined && p.before !== undefined)
      throw PipelineError.at(p.path, 'give "after" or "before", not both');
    const anchorName = p.after ?? p.before ?? 'checkpoint';
    const anchor = order.find((s) => nameOf(s) === anchorName);
    if (anchor === undefined)
      throw PipelineError.at(
        `${p.path}/${p.after !== undefined ? 'after' : 'before'}`,
        `unknown stage "${anchorName}"; known: ${order.map(nameOf).join(', ')}`,
      );
    const at = order.indexOf(anchor);
    if (p.after !== undefined) {
      const n = afterCount.get(anchor) ?? 0;
      order.splice(at + 1 + n, 0, p.item);
      afterCount.set(anchor, n + 1);
    } else {
      order.splice(at, 0, p.item);
    }
  }
  return order;
}

/**
 * Checks the anchors of a pipeline's `stages` without building anything: a plugin stage is named by
 * its `kind` (the `Stage.name` contract), so this refuses exactly what the run's stage order refuses.
 * Called by the loader once the document is valid against the schema.
 */
export function checkStageAnchors(def: PipelineDefinition): void {
  const entries = (def.stages ?? []).map((ref, i): AnchoredEntry<string> => {
    const { kind, after, before } = ref as { kind: string; after?: string; before?: string };
    return {
      item: kind,
      path: `/stages/${i}`,
      ...(after !== undefined ? { after } : {}),
      ...(before !== undefined ? { before } : {}),
    };
  });
  placeAnchored<string>(BUILTIN_STAGE_NAMES, entries, (name) => name);
}
