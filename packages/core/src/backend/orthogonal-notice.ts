import * as tf from '@tensorflow/tfjs';

/** The start of the notice tfjs-layers' Orthogonal initializer prints for matrices over 2,000 values. */
const NOTICE = 'Orthogonal initializer is being called on a matrix with more than';

/**
 * Keeps tfjs-layers' Orthogonal initializer from printing "Orthogonal initializer is being called on a
 * matrix with more than 2000 (…) elements: Slowness may result." every time a GRU or LSTM of 26 units or
 * more is built — at a run's start, and again whenever a checkpoint, `engram serve` or `engram eval`
 * rebuilds the model (the build initialises the weights before the saved ones replace them). The
 * initialisation itself is unchanged, and every other console warning still reaches stderr.
 *
 * Call once at process start-up (the CLI does). Wraps `apply` on the initializer's class (tfjs 4.22's
 * `Orthogonal`, reached through an instance because tfjs does not export it) so that, during the call
 * only, `console.warn` drops that one notice. Idempotent.
 */
export function silenceOrthogonalNotice(): void {
  const proto = Object.getPrototypeOf(tf.initializers.orthogonal({})) as {
    apply: (...args: unknown[]) => unknown;
    [QUIET]?: true;
  };
  if (proto[QUIET]) return;
  const apply = proto.apply;
  proto.apply = function quietApply(this: unknown, ...args: unknown[]): unknown {
    const warn = console.warn;
    console.warn = (...parts: unknown[]): void => {
      if (!(typeof parts[0] === 'string' && parts[0].startsWith(NOTICE))) warn(...parts);
    };
    try {
      return apply.apply(this, args);
    } finally {
      console.warn = warn;
    }
  };
  proto[QUIET] = true;
}

const QUIET = Symbol.for('engram.quiet-orthogonal');
