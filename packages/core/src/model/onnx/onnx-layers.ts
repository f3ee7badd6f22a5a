import * as tf from '@tensorflow/tfjs';

/**
 * GELU, `x · ½(1 + erf(x/√2))` (PyTorch's `nn.GELU()`, which `torch.onnx.export` writes as an Erf
 * pattern), or its tanh approximation. tfjs-layers has no GELU layer; registered so a checkpoint of an
 * imported model loads again.
 */
export class Gelu extends tf.layers.Layer {
  static readonly className = 'Gelu';
  readonly approximate: 'none' | 'tanh';

  constructor(args: { name?: string; approximate?: 'none' | 'tanh' }) {
    super(args.name === undefined ? {} : { name: args.name });
    this.approximate = args.approximate ?? 'none';
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!x) throw new Error('Gelu expects one input');
    return tf.tidy(() => {
      if (this.approximate === 'tanh') {
        const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
        return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
      }
      return tf.mul(tf.mul(x, tf.add(tf.erf(tf.div(x, Math.SQRT2)), 1)), 0.5);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), approximate: this.approximate };
  }
}

/** Element-wise operations of {@link ConstantOp} and {@link BinaryOp}; `rsub`/`rdiv` put the constant first. */
export type ElementwiseOp = 'add' | 'sub' | 'rsub' | 'mul' | 'div' | 'rdiv';

function apply(op: ElementwiseOp, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  switch (op) {
    case 'add':
      return tf.add(a, b);
    case 'sub':
      return tf.sub(a, b);
    case 'rsub':
      return tf.sub(b, a);
    case 'mul':
      return tf.mul(a, b);
    case 'div':
      return tf.div(a, b);
    case 'rdiv':
      return tf.div(b, a);
  }
}

/**
 * `x ∘ c` for an ONNX Add/Sub/Mul/Div whose other operand is a constant (a scale, a shift): the
 * constant is a non-trainable weight (in the channels-last layout, broadcast over the batch), so it
 * is saved with the model's other weights.
 */
export class ConstantOp extends tf.layers.Layer {
  static readonly className = 'OnnxConstantOp';
  readonly op: ElementwiseOp;
  readonly constantShape: number[];
  private constant: tf.LayerVariable | undefined;

  constructor(args: { name?: string; op: ElementwiseOp; constantShape: number[] }) {
    super(args.name === undefined ? {} : { name: args.name });
    this.op = args.op;
    this.constantShape = args.constantShape;
  }

  override build(): void {
    this.constant = this.addWeight(
      'constant',
      this.constantShape,
      'float32',
      tf.initializers.zeros(),
      undefined,
      false,
    );
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!x || !this.constant) throw new Error('OnnxConstantOp expects one input after build');
    const c = this.constant.read();
    return tf.tidy(() => apply(this.op, x, c));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), op: this.op, constantShape: this.constantShape };
  }
}

/** `a ∘ b` of two model tensors for ONNX Sub and Div (tfjs-layers has `add` and `multiply` only). */
export class BinaryOp extends tf.layers.Layer {
  static readonly className = 'OnnxBinaryOp';
  readonly op: ElementwiseOp;

  constructor(args: { name?: string; op: ElementwiseOp }) {
    super(args.name === undefined ? {} : { name: args.name });
    this.op = args.op;
  }

  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
    const shapes = shape as tf.Shape[];
    return shapes[0] ?? [];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [a, b] = Array.isArray(inputs) ? inputs : [inputs];
    if (!a || !b) throw new Error('OnnxBinaryOp expects two inputs');
    return tf.tidy(() => apply(this.op, a, b));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), op: this.op };
  }
}

/**
 * One step of a sequence `[batch, steps, features]` → `[batch, features]` (ONNX Gather on the step axis,
 * as torch writes `out[:, -1]`); a negative index counts from the end.
 */
export class TimeStep extends tf.layers.Layer {
  static readonly className = 'OnnxTimeStep';
  readonly index: number;

  constructor(args: { name?: string; index: number }) {
    super(args.name === undefined ? {} : { name: args.name });
    this.index = args.index;
  }

  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (Array.isArray(shape[0]) ? shape[0] : shape) as tf.Shape;
    return [s[0] ?? null, ...s.slice(2)];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!x) throw new Error('OnnxTimeStep expects one input');
    const steps = x.shape[1] ?? 0;
    const at = this.index < 0 ? steps + this.index : this.index;
    return tf.tidy(() => tf.squeeze(tf.slice(x, [0, at], [-1, 1]), [1]));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), index: this.index };
  }
}

tf.serialization.registerClass(Gelu);
tf.serialization.registerClass(TimeStep);
tf.serialization.registerClass(ConstantOp);
tf.serialization.registerClass(BinaryOp);
