/** What {@link syntheticPipeline} changes: top-level sections replaced, `data` options merged into its defaults. */
export interface SyntheticPipelineOverrides {
  /** Options of the `synthetic` source merged over the defaults (`scenario` is replaced whole). */
  readonly data?: Readonly<Record<string, unknown>>;
  /** Any other top-level pipeline section, replacing the default one (`name`, `seed`, `strategy`, …). */
  readonly [section: string]: unknown;
}

/**
 * The small pipeline the CLI's tests run when they need any quick run: Gaussian blobs of the
 * `synthetic` source (4 classes of 40 samples over 8 features, a quarter held out for testing), split
 * class-incrementally 2 classes per experience; a dense layer of 8 ReLU units and the head; naive
 * fine-tuning for 1 epoch in batches of 16 on the cpu backend; no checkpoints. `overrides` changes
 * it: `data` options are merged into the source's, every other key replaces its section. Returns a
 * new document each call (the caller may mutate or write it).
 */
export function syntheticPipeline(overrides: SyntheticPipelineOverrides = {}): Record<string, unknown> {
  const { data, ...sections } = overrides;
  return {
    name: 'synthetic',
    seed: 1,
    backend: 'cpu',
    plugins: ['@engram/datasets', '@engram/strategies'],
    data: {
      kind: 'synthetic',
      numClasses: 4,
      features: 8,
      samplesPerClass: 40,
      scenario: { type: 'class-incremental', classesPerExperience: 2 },
      testFraction: 0.25,
      ...data,
    },
    model: { layers: [{ type: 'dense', units: 8, activation: 'relu' }] },
    strategy: { kind: 'naive' },
    training: { epochs: 1, batchSize: 16 },
    checkpoint: { enabled: false },
    ...sections,
  };
}
