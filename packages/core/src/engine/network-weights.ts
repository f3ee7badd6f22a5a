import * as tf from '@tensorflow/tfjs';

/**
 * Whether the stored weights `specs` (a checkpoint's model artifacts) fit `network` one for one: the
 * same number of weights with the same shapes, in order. Used by `--resume` and `--from` before
 * putting stored weights into a network the pipeline built.
 */
export function weightsFit(network: tf.LayersModel, specs: readonly tf.io.WeightsManifestEntry[]): boolean {
  const weights = network.weights;
  return (
    weights.length === specs.length && weights.every((w, i) => w.shape.join('x') === (specs[i]?.shape ?? []).join('x'))
  );
}

/**
 * Sets `network`'s weights to the stored ones of `model` (check {@link weightsFit} first), bit for
 * bit, and frees the decoded tensors.
 */
export function setNetworkWeights(network: tf.LayersModel, model: tf.io.ModelArtifacts): void {
  const specs = model.weightSpecs ?? [];
  const map = tf.io.decodeWeights(model.weightData ?? new ArrayBuffer(0), specs);
  network.setWeights(specs.map((s) => map[s.name] as tf.Tensor));
  for (const t of Object.values(map)) t.dispose();
}
