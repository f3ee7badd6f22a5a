import { isObservable, Observable, type OperatorFunction } from 'rxjs';
import { PipelineError } from '../plugin-api/pipeline-error.js';
import type { Checkpointable } from '../plugin-api/checkpointable.js';
import type { SerializedState } from '../plugin-api/serialized-state.js';
import { sampleLength, type Batch } from '../data/batch.js';
import type { RunItem } from '../plugin-api/run-item.js';
import type { Stage, StageRun } from '../plugin-api/stage.js';
import { checkStageState, describeThrown } from './stage-state-check.js';

/** A failure of a plugin stage, named by its `kind` and JSON pointer: `stage "id-audit" (/stages/0): …`. */
export class StageError extends Error {
  constructor(kind: string, path: string, message: string) {
    super(`stage "${kind}" (${path}): ${message}`);
    this.name = 'StageError';
  }
}

const ITEM_KINDS: ReadonlySet<string> = new Set([
  'run-start',
  'experience-start',
  'epoch-start',
  'batch',
  'test',
  'epoch-end',
  'experience-end',
  'run-end',
]);

/** What is remembered of an item that went into the plugin's operator, to check what comes out. */
interface Entered {
  readonly seq: number;
  readonly kind: string;
  /** `batch` / `test` items: the sample shape the model was built for. */
  readonly sampleShape?: readonly number[];
}

function batchProblem(batch: Batch | null | undefined, entered: readonly number[]): string | undefined {
  if (batch === null || typeof batch !== 'object') return `its batch is ${batch === null ? 'null' : typeof batch}`;
  if (!(batch.x instanceof Float32Array) || !(batch.y instanceof Int32Array))
    return 'its batch needs x as a Float32Array and y as an Int32Array';
  const shape = batch.sampleShape;
  if (!Array.isArray(shape) || shape.length !== entered.length || shape.some((d, i) => d !== entered[i]))
    return `it changed the sample shape from [${entered.join(', ')}] to ${JSON.stringify(shape) ?? 'nothing'}`;
  if (batch.x.length !== batch.y.length * sampleLength(shape))
    return `its batch has ${batch.x.length} x values for ${batch.y.length} samples of shape [${shape.join(', ')}] (needs ${batch.y.length * sampleLength(shape)})`;
  return undefined;
}

/**
 * Tells when the process has nothing left to do while `pending()` is true: Node's `beforeExit` fires
 * once the event loop is empty — no timer, socket or I/O left that could ever settle the promise a
 * stage waits on. That is a stall (the run would otherwise end with exit 13 and no summary). A stage
 * that waits on a live timer or socket is slow, not stalled, and is not flagged: there is no clock.
 */
function onIdle(fire: () => void): () => void {
  const listener = (): void => fire();
  process.on('beforeExit', listener);
  return () => void process.off('beforeExit', listener);
}

/**
 * Wraps a plugin stage so that every way it can break the stage contract ends the run as `failed`
 * with one line naming it (`stage "id-audit" (/stages/0): …`) instead of exit 13, a silent change or
 * an unnamed message. Called once per plugin stage when the run's components are built; the run then
 * only ever sees the wrapper. It checks, per item:
 * - what comes out is an item (a `kind` and `seq`) that went in, once, in order (a copy keeps `seq`);
 * - a `batch` / `test` item still carries a batch of the sample shape it came in with, `x` as long as
 *   `y` × the sample length (so a stage cannot silently reshape or shorten what `train` sees);
 * - an item kept back is reported when the process runs out of work to do (see {@link onIdle});
 * - `operator(run)` returns an operator, throws and rejections (Error or not) are named;
 * - `state()` returns JSON meta (no BigInt, no cycle) and well-formed arrays; `restore` errors are named.
 */
export function guardStage(stage: Stage, kind: string, path: string): Stage {
  const fail = (message: string): StageError => new StageError(kind, path, message);
  const named = (e: unknown): StageError => (e instanceof StageError ? e : fail(describeThrown(e)));
  const guarded: Stage & Partial<Checkpointable> = {
    name: stage.name,
    operator(run: StageRun): OperatorFunction<RunItem, RunItem> {
      let op: unknown;
      try {
        op = stage.operator(run);
      } catch (e) {
        throw named(e);
      }
      if (typeof op !== 'function')
        throw fail(`operator(run) returned ${op === null ? 'null' : typeof op}, not an RxJS operator function`);
      const inner = op as OperatorFunction<RunItem, RunItem>;
      return (source) =>
        new Observable<RunItem>((subscriber) => {
          const inside: Entered[] = [];
          let lastOut = -1;
          const stop = (e: unknown): void => subscriber.error(named(e));
          const release = onIdle(() => {
            const held = inside[0];
            if (held && !subscriber.closed)
              stop(
                fail(
                  `never passed on item ${held.seq} (${held.kind}): it dropped it or waits on something that can never settle, and the run stalled`,
                ),
              );
          });
          const tracked = new Observable<RunItem>((into) =>
            source.subscribe({
              next: (item) => {
                const b = item.kind === 'batch' || item.kind === 'test' ? item.batch : undefined;
                inside.push({ seq: item.seq, kind: item.kind, ...(b ? { sampleShape: [...b.sampleShape] } : {}) });
                into.next(item);
              },
              error: (e: unknown) => into.error(e),
              complete: () => into.complete(),
            }),
          );
          let out: unknown;
          try {
            out = inner(tracked);
          } catch (e) {
            release();
            stop(e);
            return undefined;
          }
          if (!isObservable(out)) {
            release();
            stop(fail(`its operator returned ${out === null ? 'null' : typeof out}, not an Observable`));
            return undefined;
          }
          const subscription = out.subscribe({
            next: (value: unknown) => {
              const problem = itemProblem(value, inside, lastOut);
              if (problem !== undefined) return stop(fail(problem));
              const item = value as RunItem;
              inside.shift();
              lastOut = item.seq;
              subscriber.next(item);
            },
            error: (e: unknown) => stop(e),
            complete: () => {
              const held = inside[0];
              if (held) stop(fail(`completed without passing on item ${held.seq} (${held.kind})`));
              else subscriber.complete();
            },
          });
          return () => {
            release();
            subscription.unsubscribe();
          };
        });
    },
  };
  const target = stage as Stage & Partial<Checkpointable>;
  if (typeof target.state === 'function') {
    const state = target.state.bind(stage);
    guarded.state = async (): Promise<SerializedState> => {
      let s: unknown;
      try {
        s = await state();
      } catch (e) {
        throw fail(`state() failed: ${describeThrown(e)}`);
      }
      const problem = checkStageState(s);
      if (problem !== undefined) throw fail(`state() ${problem}`);
      return s as SerializedState;
    };
    if (typeof target.restore === 'function') {
      const restore = target.restore.bind(stage);
      guarded.restore = async (s: SerializedState): Promise<void> => {
        try {
          await restore(s);
        } catch (e) {
          throw fail(`restore(state) failed: ${describeThrown(e)}`);
        }
      };
    }
    if (typeof target.checkpointed === 'function') guarded.checkpointed = target.checkpointed.bind(stage);
  }
  return guarded;
}

/** Why `value`, coming out of a plugin stage, breaks the contract, or `undefined`. */
function itemProblem(value: unknown, inside: readonly Entered[], lastOut: number): string | undefined {
  const item = value as Partial<RunItem> | null;
  if (item === null || typeof item !== 'object' || typeof item.seq !== 'number' || !ITEM_KINDS.has(String(item.kind)))
    return `emitted ${describeValue(value)}, which is not a run item (it needs "kind" and "seq")`;
  const held = inside[0];
  if (item.seq <= lastOut) return `emitted item ${item.seq} (${item.kind}) twice`;
  if (!held || held.seq !== item.seq)
    return `emitted item ${item.seq} (${item.kind}) ${held ? `before item ${held.seq}` : 'that it was never given'}`;
  if (held.kind !== item.kind) return `turned item ${held.seq} from "${held.kind}" into "${item.kind}"`;
  if (held.sampleShape) {
    const problem = batchProblem((item as { batch?: Batch | null }).batch, held.sampleShape);
    if (problem !== undefined) return `item ${held.seq} (${held.kind}): ${problem}`;
  }
  return undefined;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Builds a plugin stage through `make`, wrapped by {@link guardStage}. A stage whose creation throws,
 * or whose product is not a Stage, becomes a stage that fails as soon as the run starts its stages:
 * the run is already recorded by then, so it ends with summary.json `failed` and the named cause.
 */
export function makeGuardedStage(make: () => unknown, kind: string, path: string): Stage {
  let made: unknown;
  try {
    made = make();
  } catch (e) {
    if (e instanceof PipelineError) throw e; // bad options or unknown kind: exit 2 before the run
    return failingStage(kind, new StageError(kind, path, `creation failed: ${describeThrown(e)}`));
  }
  const s = made as Partial<Stage> | null;
  if (s === null || typeof s !== 'object' || typeof s.name !== 'string' || typeof s.operator !== 'function')
    return failingStage(
      kind,
      new StageError(kind, path, 'does not implement Stage: it needs a string "name" and an "operator(run)" method'),
    );
  return guardStage(s as Stage, kind, path);
}

function failingStage(kind: string, error: StageError): Stage {
  return {
    name: kind,
    operator: () => {
      throw error;
    },
  };
}
