import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodeStates,
  partOptions,
  partsOf,
  type PipelineDefinition,
  type RunSummary,
  type SerializedState,
  type VerifiedCheckpoint,
} from '@engram/core/internal';

/** One preprocessing step of the pipeline, with what it fitted (e.g. normalize's mean and std). */
export interface ExportedTransform {
  readonly kind: string;
  readonly options: Record<string, unknown>;
  /** Fitted arrays by name (`mean`, `std`), flat, in the order the transform applies them. */
  readonly fitted: Record<string, number[]>;
}

/** `engram.json`: what a consumer of the exported model needs besides `model.json`. */
export interface EngramExport {
  readonly format: 'engram-export';
  readonly formatVersion: 1;
  readonly engramVersion: string;
  readonly name: string;
  readonly checkpointStep: number;
  /** Shape of one sample as the model takes it (after the preprocessing below). */
  readonly inputShape: number[];
  /** Class names by output index (indices as strings when the data names none). */
  readonly classes: string[];
  /** `logits` (raw scores) or `probabilities` (softmax applied by `--softmax`). */
  readonly output: 'logits' | 'probabilities';
  readonly preprocessing: ExportedTransform[];
  /**
   * Multi-head (task-incremental) models: the classes of each task. Predict for task t by keeping only
   * the outputs of `heads[t]` (the others are masked to -Infinity by Engram) before argmax.
   */
  readonly heads: Record<string, number[]> | null;
  /**
   * Hedge models: one output per head (the model's outputs, in order) mixed as Σₗ weightsₗ·softmax(zₗ);
   * argmax of the mixture is Engram's prediction.
   */
  readonly hedge: { readonly weights: number[] } | null;
  /** The classes of each experience, in order (from the run's events), for per-experience accuracy. */
  readonly experiences: number[][];
  /** The run's figures at export time (from summary.json), when the run folder has them. */
  readonly metrics: Pick<
    RunSummary,
    'averageAccuracy' | 'bwt' | 'fwt' | 'forgetting' | 'accuracyMatrix' | 'prequential' | 'trainSamples'
  > | null;
}

interface RunJson {
  readonly pipeline: PipelineDefinition;
  readonly seenClasses?: number[];
}

const numbers = (s: SerializedState | undefined): Record<string, number[]> =>
  Object.fromEntries(Object.entries(s?.arrays ?? {}).map(([k, a]) => [k, Array.from(a.data)]));

/** The classes of each experience, from the run's `experience-start` events. */
function experienceClasses(runDir: string | undefined): number[][] {
  const file = runDir === undefined ? undefined : join(runDir, 'metrics.jsonl');
  if (file === undefined || !existsSync(file)) return [];
  const out: number[][] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.includes('"experience-start"')) continue;
    const e = JSON.parse(line) as { experience: number; classes: number[] };
    out[e.experience] = e.classes;
  }
  return out.map((c) => c ?? []);
}

/**
 * Builds `engram.json` for a checkpoint: the pipeline's preprocessing with its fitted statistics (from
 * the checkpoint's state), multi-head task classes, Hedge mixing weights, classes and input shape
 * (from the run's summary and events when `runDir` has them).
 */
export function exportManifest(
  checkpoint: VerifiedCheckpoint,
  runDir: string | undefined,
  options: { softmax: boolean; version: string; numOutputs: number; inputShape: number[] },
): EngramExport {
  const run = JSON.parse(new TextDecoder().decode(checkpoint.files.get('run.json') ?? new Uint8Array())) as RunJson;
  const statesJson = checkpoint.files.get('state.json');
  const states = statesJson
    ? decodeStates(new TextDecoder().decode(statesJson), checkpoint.files.get('state.bin') ?? new Uint8Array(0))
    : {};
  const def = run.pipeline;
  const summaryFile = runDir === undefined ? undefined : join(runDir, 'summary.json');
  const summary =
    summaryFile !== undefined && existsSync(summaryFile)
      ? (JSON.parse(readFileSync(summaryFile, 'utf8')) as RunSummary)
      : undefined;
  // Checkpoint format 2 keys states by the parts table's JSON pointers (`/strategy/1`), format 1 by
  // `transform:0`, `adjust:0`, `strategy:1:hedge`.
  const preprocessing = partsOf(def, 'transform').map((p) => ({
    kind: p.kind,
    options: partOptions(p),
    fitted: numbers(states[p.pointer] ?? states[`transform:${p.index}`]),
  }));
  let heads: Record<string, number[]> | null = null;
  for (const p of partsOf(def, 'adjust')) {
    const state = states[p.pointer] ?? states[`adjust:${p.index}`];
    const tasks = (state?.meta as { tasks?: Array<[number, number[]]> } | undefined)?.tasks;
    if (p.kind === 'multi-head' && tasks) heads = Object.fromEntries(tasks.map(([t, c]) => [String(t), c]));
  }
  const hedge = partsOf(def, 'strategy').find((p) => p.kind === 'hedge');
  const hedgeState =
    (hedge ? states[hedge.pointer] : undefined) ??
    Object.entries(states).find(([k]) => /^strategy:\d+:hedge$/.test(k))?.[1];
  const alpha = hedgeState?.arrays?.['alpha'];
  const classNames =
    (def.data as { labels?: string[]; classNames?: string[] }).labels ??
    (def.data as { classNames?: string[] }).classNames;
  return {
    format: 'engram-export',
    formatVersion: 1,
    engramVersion: options.version,
    name: def.name,
    checkpointStep: checkpoint.step,
    inputShape: options.inputShape,
    classes: Array.from({ length: options.numOutputs }, (_, i) => classNames?.[i] ?? String(i)),
    output: options.softmax ? 'probabilities' : 'logits',
    preprocessing,
    heads,
    hedge: alpha ? { weights: Array.from(alpha.data) } : null,
    experiences: experienceClasses(runDir),
    metrics: summary
      ? {
          averageAccuracy: summary.averageAccuracy,
          bwt: summary.bwt,
          fwt: summary.fwt,
          forgetting: summary.forgetting,
          accuracyMatrix: summary.accuracyMatrix,
          prequential: summary.prequential,
          trainSamples: summary.trainSamples,
        }
      : null,
  };
}
