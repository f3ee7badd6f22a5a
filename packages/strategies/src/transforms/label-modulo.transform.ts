import { Type, type Batch, type ComponentDescriptor, type Static, type Transform } from '@engram/core';

/** Options of the `label-modulo` transform. */
export const LabelModuloOptions = Type.Object(
  {
    modulo: Type.Integer({ minimum: 1, default: 2, description: 'Labels become y mod this value.' }),
  },
  { additionalProperties: false },
);

/**
 * Relabels every sample to `y mod modulo`, on training, test and replayed batches alike. With a
 * class-incremental split of digit pairs {0,1}, {2,3}, … and `modulo: 2` it builds the
 * domain-incremental split-MNIST of van de Ven et al. 2019 ("Three scenarios for continual learning"):
 * every experience asks "even or odd?" over new digits, without task labels. The model keeps its
 * full head; only the first `modulo` outputs are ever targeted. Soft targets are dropped.
 */
export class LabelModuloTransform implements Transform {
  constructor(private readonly options: Static<typeof LabelModuloOptions>) {}

  apply(batch: Batch): Batch {
    const m = this.options.modulo;
    const y = Int32Array.from(batch.y, (v) => ((v % m) + m) % m);
    const { targets: _dropped, ...rest } = batch;
    return { ...rest, y };
  }
}

/** Registration of `label-modulo`. */
export const labelModuloDescriptors: ComponentDescriptor[] = [
  {
    role: 'transform',
    kind: 'label-modulo',
    description:
      'Relabels samples to y mod N (with a class split of digit pairs and N = 2: domain-incremental split-MNIST).',
    options: LabelModuloOptions,
    create: (o) => new LabelModuloTransform(o as Static<typeof LabelModuloOptions>),
  },
];
