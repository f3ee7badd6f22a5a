import * as tf from '@tensorflow/tfjs';

/** A tensor with the name of the variable or slot it belongs to (tfjs' `NamedTensor`). */
type NamedTensor = { name: string; tensor: tf.Tensor };
import type { OptimizerSpec } from '../pipeline/optimizer.schema.js';
import { createOptimizer, initialSlotValue } from './optimizer.factory.js';
import { addPenaltyGradients, type VariablePenalties } from './penalty-step.js';
import { NO_ACCELERATION, type RunAccelerator } from '../backend/run-accelerator.js';
import { controlGradients, controlsActive, decayWeights, type GradientControlSettings } from './gradient-controls.js';

/**
 * Owns the tfjs optimizer of a run and keeps its slots right when the set of trainable variables
 * changes (a grown head, a frozen layer, a replaced model).
 *
 * tfjs optimizers keep slots by position in the gradient list, so a changed variable list would pair
 * moments with the wrong weights. When the list changes, the handle builds a new optimizer and moves
 * every slot whose variable kept its name and shape; new variables start from fresh slots.
 */
export class OptimizerHandle {
  private optimizer: tf.Optimizer;
  private signature = '';
  private order: string[] = [];
  private rate: number;
  /** The pipeline's `learningRate` (or the optimizer's default): what a schedule scales. */
  readonly baseLearningRate: number;
  private readonly controls: GradientControlSettings;
  private readonly controlled: boolean;

  /**
   * @param accelerator the run's accelerated operations (`RunContext.accelerator`): every optimizer
   *   the handle creates gets its native update, and penalised steps use its fused form. Default: none.
   * @param clipping the run's `training.clipNorm` / `clipValue`.
   */
  constructor(
    private readonly spec: OptimizerSpec,
    readonly accelerator: RunAccelerator = NO_ACCELERATION,
    clipping: { readonly clipNorm?: number; readonly clipValue?: number } = {},
  ) {
    const decay = spec.weightDecay ?? (spec.type === 'adamw' ? 0.01 : 0);
    this.controls = {
      ...clipping,
      ...(spec.type === 'adamw' ? { decoupled: decay } : { l2: decay }),
    };
    this.controlled = controlsActive(this.controls);
    this.optimizer = this.create();
    this.baseLearningRate = (this.optimizer as unknown as { learningRate: number }).learningRate;
    this.rate = this.baseLearningRate;
  }

  private create(): tf.Optimizer {
    const optimizer = createOptimizer(this.spec);
    // A rebuilt optimizer (grown head, reset) keeps the scheduled rate.
    if (this.rate !== undefined && this.rate !== this.baseLearningRate) setRate(optimizer, this.rate);
    return this.accelerator.accelerateOptimizer?.(optimizer) ?? optimizer;
  }

  /** The learning rate of the next update. */
  get learningRate(): number {
    return this.rate;
  }

  /**
   * Sets the learning rate of the next updates (a schedule calls it before each step; nothing happens
   * when it is unchanged). Both the stock tfjs update and the native kernels read the optimizer's
   * `learningRate` field at every update.
   */
  setLearningRate(rate: number): void {
    if (rate === this.rate) return;
    this.rate = rate;
    setRate(this.optimizer, rate);
  }

  /**
   * True when a control needs the full gradient before the update (clipping sees the penalties', and
   * decoupled decay must not move θ under a fused penalty): the trainer then keeps quadratic penalties
   * on the tape instead of deferring them to the optimizer step.
   */
  get needsFullGradients(): boolean {
    return (
      (this.controls.clipNorm ?? 0) > 0 || (this.controls.clipValue ?? 0) > 0 || (this.controls.decoupled ?? 0) > 0
    );
  }

  /** The current tfjs optimizer (for checkpoints: `getWeights()` / `setWeights()`). */
  get current(): tf.Optimizer {
    return this.optimizer;
  }

  /** Names of the variables, in the order the optimizer's slots follow. */
  get variableOrder(): readonly string[] {
    return this.order;
  }

  /**
   * Makes the optimizer's slots follow `variables`. Called at each experience start, after model
   * adjustments; cheap when nothing changed.
   */
  async track(variables: readonly tf.Variable[]): Promise<void> {
    const signature = variables.map((v) => `${v.name}:${v.shape.join('x')}`).join('|');
    if (signature === this.signature) return;
    const hadState = this.signature !== '' && this.optimizer.iterations > 0;
    this.signature = signature;
    const previousOrder = this.order;
    this.order = variables.map((v) => v.name);
    if (!hadState) return;
    const old = await this.optimizer.getWeights();
    const fresh = this.create();
    const [iterations, ...slots] = old;
    const perVariable = previousOrder.length === 0 ? 0 : slots.length / previousOrder.length;
    const byName = new Map(slots.map((s) => [s.name, s.tensor]));
    const next: NamedTensor[] = [];
    for (let k = 0; k < perVariable; k++) {
      const suffix = slots[k * previousOrder.length]?.name.split('/').pop() ?? '';
      for (const v of variables) {
        const prev = byName.get(`${v.name}/${suffix}`);
        const tensor =
          prev && prev.shape.join('x') === v.shape.join('x')
            ? prev.clone()
            : tf.fill(v.shape, initialSlotValue(this.spec));
        next.push({ name: `${v.name}/${suffix}`, tensor });
      }
    }
    if (iterations) await fresh.setWeights([iterations, ...next]);
    // getWeights() returns the live slot variables after a fresh `iter` scalar; the old optimizer frees the rest.
    iterations?.tensor.dispose();
    for (const t of next) t.tensor.dispose();
    this.optimizer.dispose();
    this.optimizer = fresh;
  }

  /**
   * Starts over with a fresh optimizer (no moments, iteration 0), e.g. when a strategy retrains from
   * scratch. The next `track()` re-binds the slots.
   */
  reset(): void {
    this.optimizer.dispose();
    this.optimizer = this.create();
    this.signature = '';
    this.order = [];
  }

  /**
   * Applies gradients keyed by variable name, in the tracked order. A tracked variable without a
   * gradient gets zeros, so slot positions never shift. `penalties` (aligned with `variables`) add
   * their gradients to this step — fused into the optimizer's pass when native kernels are active —
   * and the call returns their value at the weights before the update (0 without penalties).
   */
  apply(grads: tf.NamedTensorMap, variables: readonly tf.Variable[], penalties?: VariablePenalties): number {
    const list: NamedTensor[] = [];
    const owned: tf.Tensor[] = [];
    variables.forEach((v, i) => {
      const name = this.order[i] ?? v.name;
      let g = grads[name];
      if (!g) {
        g = tf.zerosLike(v);
        owned.push(g);
      }
      list.push({ name, tensor: g });
    });
    if (this.controlled) {
      const controlled = controlGradients(
        list.map((e) => e.tensor),
        variables,
        this.controls,
      );
      controlled.forEach((g, i) => {
        const entry = list[i];
        if (entry && g !== entry.tensor) {
          owned.push(g);
          entry.tensor = g;
        }
      });
      if ((this.controls.decoupled ?? 0) > 0) decayWeights(variables, this.rate, this.controls.decoupled ?? 0);
    }
    let value = 0;
    if (penalties?.some((p) => p !== undefined && p.length > 0)) {
      const fusedValue = this.accelerator.applyWithPenalties?.(this.optimizer, list, penalties);
      if (fusedValue !== undefined) {
        tf.dispose(owned);
        return fusedValue;
      }
      const added = addPenaltyGradients(
        list.map((e) => e.tensor),
        variables,
        penalties,
      );
      added.grads.forEach((g, i) => {
        const entry = list[i];
        if (entry && g && g !== entry.tensor) {
          owned.push(g);
          entry.tensor = g;
        }
      });
      value = added.value;
    }
    this.optimizer.applyGradients(list);
    tf.dispose(owned);
    return value;
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}

/** Sets a tfjs optimizer's rate: SGD/Momentum keep it as a scalar tensor too (`setLearningRate`). */
function setRate(optimizer: tf.Optimizer, rate: number): void {
  const o = optimizer as unknown as { learningRate: number; setLearningRate?: (r: number) => void };
  if (typeof o.setLearningRate === 'function') o.setLearningRate(rate);
  else o.learningRate = rate;
}
