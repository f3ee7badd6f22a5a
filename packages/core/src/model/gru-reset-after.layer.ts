import * as tf from '@tensorflow/tfjs';
import { gruSequence, hasFusedGruKernels, type GruGate } from './gru-sequence.js';

/** A weight initialiser (tfjs-layers' `Initializer`, as `tf.initializers.*` return it). */
type Initializer = ReturnType<typeof tf.initializers.zeros>;

/** An initialiser, or its serialised form `{ className, config }` (as a checkpoint's model.json holds it). */
export type InitializerArg = Initializer | { className: string; config: tf.serialization.ConfigDict };

function initializer(arg: InitializerArg | undefined, fallback: () => Initializer): Initializer {
  if (arg === undefined) return fallback();
  if (arg instanceof tf.serialization.Serializable) return arg;
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[arg.className];
  if (!entry) throw new Error(`unknown initializer ${arg.className}`);
  return entry[1](entry[0], arg.config) as Initializer;
}

const serialize = (init: Initializer): tf.serialization.ConfigDict => ({
  className: init.getClassName(),
  config: init.getConfig(),
});

/** Names of the activations a {@link GruResetAfter} takes (tfjs-layers' identifiers). */
export type GruActivation = Parameters<typeof tf.layers.activation>[0]['activation'];

/** Options of {@link GruResetAfter}, as `tf.layers.gru` takes them. */
export interface GruResetAfterArgs {
  readonly units: number;
  readonly name?: string;
  /** Candidate activation (default tanh). */
  readonly activation?: GruActivation;
  /** Update/reset gate activation (default sigmoid, PyTorch's; Keras' is also sigmoid). */
  readonly recurrentActivation?: GruActivation;
  /** Output every step `[batch, steps, units]` instead of the last `[batch, units]`. */
  readonly returnSequences?: boolean;
  readonly useBias?: boolean;
  readonly kernelInitializer?: InitializerArg;
  readonly recurrentInitializer?: InitializerArg;
  readonly trainable?: boolean;
}

/**
 * A GRU that applies the reset gate after the recurrent matmul — PyTorch's `nn.GRU`, ONNX's
 * `linear_before_reset=1` and Keras' `reset_after=True` (tfjs-layers' GRU only resets before it):
 *
 * ```
 * z = σ(x·Wz + bz + h·Rz + rz)      r = σ(x·Wr + br + h·Rr + rr)
 * ĥ = tanh(x·Wh + bh + r ⊙ (h·Rh + rh))      h' = z ⊙ h + (1 − z) ⊙ ĥ
 * ```
 *
 * Weights as Keras lays them out: `kernel [features, 3·units]`, `recurrent_kernel [units, 3·units]`
 * (gates z, r, h) and `bias [2, 3·units]` (input bias, recurrent bias). It starts from a zero state and
 * takes no mask. The input projection of all steps is one matmul; with a tanh candidate and sigmoid or
 * hard-sigmoid gates, on a backend with the fused GRU kernels (wasm with `@engram/native`), the
 * recurrence is one fused op with hand-written backpropagation through time ({@link gruSequence}),
 * otherwise an unrolled loop of tfjs ops that tfjs autodiff trains (see {@link GruResetAfter.fastPath}). Built by the model builder (`gru` with `resetAfter: true`) and by the ONNX
 * importer; registered so checkpoints load it again.
 */
export class GruResetAfter extends tf.layers.Layer {
  static readonly className = 'EngramGRU';
  readonly units: number;
  readonly activationName: GruActivation;
  readonly recurrentActivationName: GruActivation;
  readonly returnSequences: boolean;
  readonly useBias: boolean;
  private readonly kernelInit: Initializer;
  private readonly recurrentInit: Initializer;
  private kernel: tf.LayerVariable | undefined;
  private recurrentKernel: tf.LayerVariable | undefined;
  private bias: tf.LayerVariable | undefined;
  private readonly fns: { act: tf.layers.Layer; rec: tf.layers.Layer };
  /**
   * When `call` uses the fused sequence op (if the activations allow it): `auto` (default) where the
   * backend has its fused kernels (wasm with `@engram/native`) — as tfjs ops it measured no faster than
   * the unrolled loop on wasm —, `always` (tfjs ops elsewhere), `never` (the unrolled loop, e.g. to
   * compare the two). Not serialised.
   */
  fastPath: 'auto' | 'always' | 'never' = 'auto';

  constructor(args: GruResetAfterArgs) {
    super({ ...(args.name === undefined ? {} : { name: args.name }), trainable: args.trainable ?? true });
    this.units = args.units;
    this.activationName = args.activation ?? 'tanh';
    this.recurrentActivationName = args.recurrentActivation ?? 'sigmoid';
    this.returnSequences = args.returnSequences ?? false;
    this.useBias = args.useBias ?? true;
    this.kernelInit = initializer(args.kernelInitializer, () => tf.initializers.glorotUniform({}));
    this.recurrentInit = initializer(args.recurrentInitializer, () => tf.initializers.orthogonal({ gain: 1 }));
    // Activation layers applied to concrete tensors: every activation tfjs-layers knows, by its name.
    this.fns = {
      act: tf.layers.activation({ activation: this.activationName, name: `${this.name}_activation` }),
      rec: tf.layers.activation({ activation: this.recurrentActivationName, name: `${this.name}_gates` }),
    };
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const features = shape[shape.length - 1];
    if (shape.length !== 3 || typeof features !== 'number')
      throw new Error(`a GRU takes [batch, steps, features], got [${shape.join(', ')}]`);
    const u = this.units;
    this.kernel = this.addWeight('kernel', [features, 3 * u], 'float32', this.kernelInit);
    this.recurrentKernel = this.addWeight('recurrent_kernel', [u, 3 * u], 'float32', this.recurrentInit);
    if (this.useBias) this.bias = this.addWeight('bias', [2, 3 * u], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return this.returnSequences ? [shape[0] ?? null, shape[1] ?? null, this.units] : [shape[0] ?? null, this.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!x || !this.kernel || !this.recurrentKernel) throw new Error('EngramGRU expects one input after build');
    const kernel = this.kernel.read();
    const recurrent = this.recurrentKernel.read();
    const bias = this.bias?.read();
    return tf.tidy(() => {
      const [batch, steps, features] = x.shape as [number, number, number];
      const u = this.units;
      let xw = tf.reshape(tf.matMul(tf.reshape(x, [batch * steps, features]), kernel), [batch, steps, 3 * u]);
      let recurrentBias: tf.Tensor | undefined;
      if (bias) {
        const [inputBias, hBias] = tf.unstack(bias);
        xw = tf.add(xw, inputBias as tf.Tensor);
        recurrentBias = hBias;
      }
      const gate = this.fusedGate();
      if (gate !== undefined && steps > 0) {
        const hBias = (recurrentBias ?? tf.zeros([3 * u])) as tf.Tensor1D;
        const options = { gate, returnSequences: this.returnSequences };
        return gruSequence(xw as tf.Tensor3D, recurrent as tf.Tensor2D, hBias, options);
      }
      const xs = tf.unstack(xw, 1);
      let h: tf.Tensor = tf.zeros([batch, u]);
      const outputs: tf.Tensor[] = [];
      for (const xt of xs) {
        let hr = tf.matMul(h, recurrent);
        if (recurrentBias) hr = tf.add(hr, recurrentBias);
        const [xz, xr, xh] = tf.split(xt, 3, 1) as [tf.Tensor, tf.Tensor, tf.Tensor];
        const [hz, hrr, hh] = tf.split(hr, 3, 1) as [tf.Tensor, tf.Tensor, tf.Tensor];
        const z = this.fns.rec.apply(tf.add(xz, hz)) as tf.Tensor;
        const r = this.fns.rec.apply(tf.add(xr, hrr)) as tf.Tensor;
        const candidate = this.fns.act.apply(tf.add(xh, tf.mul(r, hh))) as tf.Tensor;
        h = tf.add(tf.mul(z, h), tf.mul(tf.sub(1, z), candidate));
        if (this.returnSequences) outputs.push(h);
      }
      return this.returnSequences ? tf.stack(outputs, 1) : h;
    });
  }

  /** The gate activation when the fused sequence op computes this layer, else undefined. */
  private fusedGate(): GruGate | undefined {
    if (this.fastPath === 'never' || this.activationName !== 'tanh') return undefined;
    if (this.fastPath === 'auto' && !hasFusedGruKernels()) return undefined;
    const gate = this.recurrentActivationName;
    return gate === 'sigmoid' || gate === 'hardSigmoid' ? gate : undefined;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      units: this.units,
      activation: this.activationName,
      recurrentActivation: this.recurrentActivationName,
      returnSequences: this.returnSequences,
      useBias: this.useBias,
      kernelInitializer: serialize(this.kernelInit),
      recurrentInitializer: serialize(this.recurrentInit),
      resetAfter: true,
    };
  }
}

tf.serialization.registerClass(GruResetAfter);
