import { PipelineError } from '../plugin-api/pipeline-error.js';

/** Every method the engine may call on a strategy (`training/strategy.ts`), the optional hooks included. */
export const STRATEGY_HOOKS: readonly string[] = [
  'beforeExperience',
  'adaptModel',
  'trainData',
  'transformBatch',
  'loss',
  'penalty',
  'afterBackward',
  'afterBatch',
  'afterExperience',
  'predictor',
  'forEvaluation',
  'state',
  'restore',
  'dispose',
];

/** Method names that read as a hook (`beforeX`, `afterX`, `onX`): a misspelt optional hook looks like one. */
const HOOK_LIKE = /^(before|after|on)[A-Z]/;

/** Names of the methods of `component`, own and inherited (not `Object.prototype`'s); getters are not called. */
function methodNames(component: object): string[] {
  const names = new Set<string>();
  for (let o: object | null = component; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o) as object) {
    for (const name of Object.getOwnPropertyNames(o)) {
      const d = Object.getOwnPropertyDescriptor(o, name);
      if (typeof d?.value === 'function' && name !== 'constructor') names.add(name);
    }
  }
  return [...names];
}

/**
 * Refuses a component whose method reads as a hook but is none of `known` (a misspelt optional hook,
 * `beforeExperiance`, would compile and never be called): a {@link PipelineError} at the component's
 * JSON pointer naming the method. Called once per component, when the run builds it.
 */
export function checkHooks(
  component: object,
  known: readonly string[],
  where: { readonly role: string; readonly kind: string; readonly pointer: string },
): void {
  for (const name of methodNames(component)) {
    if (!HOOK_LIKE.test(name) || known.includes(name)) continue;
    const like = known.filter((k) => HOOK_LIKE.test(k)).join(', ');
    throw PipelineError.at(
      where.pointer,
      `${where.role} "${where.kind}" has a method "${name}", which is not a ${where.role} hook and would never be called (hooks: ${like})`,
    );
  }
}
