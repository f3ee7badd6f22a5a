import { ContainerModule, TOKENS, type ComponentDescriptor, type PluginManifest } from '@engram/core';
import { fashionMnistDescriptor } from './sources/fashion-mnist.source.js';
import { idxDescriptor } from './sources/idx.source.js';
import { npyDescriptor } from './sources/npy.source.js';
import { imageFolderDescriptor } from './sources/image-folder.source.js';
import { imageTransformDescriptors } from './transforms/image.transforms.js';
import { csvDescriptor, jsonlDescriptor } from './sources/file.sources.js';
import { mnistDescriptor } from './sources/mnist.source.js';
import { syntheticDescriptor } from './sources/synthetic.source.js';
import { driftingRegressionDescriptor } from './sources/drifting-regression.source.js';
import { jsonlFollowDescriptor } from './live/follow.source.js';
import { httpDescriptor } from './live/http.source.js';
import { feedbackDescriptor } from './live/feedback.source.js';
import { jsonlStdinDescriptor } from './live/stdin.source.js';
import { redisStreamDescriptor } from './redis/redis-stream.source.js';
import { redisEventsDescriptor } from './redis/redis-events.logger.js';
import { augmentDescriptor } from './transforms/augment.transform.js';
import { normalizeDescriptor } from './transforms/normalize.transform.js';
import { shapeDescriptors } from './transforms/shape.transforms.js';

// The public API: the plugin manifest, its components (classes, descriptors, option schemas) and the
// base classes a third-party data source may extend. Readers, parsers, scenario builders and the
// journal are internal.
export * from './scenarios/scenario.schema.js';
export * from './sources/finite-data-source.js';
export * from './sources/mnist.source.js';
export * from './sources/synthetic.source.js';
export * from './sources/drifting-regression.source.js';
export * from './sources/idx.source.js';
export * from './sources/fashion-mnist.source.js';
export * from './sources/file.sources.js';
export * from './sources/npy.source.js';
export * from './sources/image-folder.source.js';
export type { ImageStats } from './images/image-rows.js';
export { encodePng } from './images/png-encode.js';
export { idxToImageFolder, type IdxToFolderOptions } from './images/idx-to-folder.js';
export * from './live/live-data-source.js';
export * from './live/live-options.js';
export * from './live/stdin.source.js';
export * from './live/follow.source.js';
export * from './live/http.source.js';
export * from './live/feedback-channel.js';
export * from './live/feedback.source.js';
export * from './redis/redis-connection.js';
export * from './redis/redis-target.js';
export * from './redis/stream-entries.js';
export * from './redis/redis-stream.options.js';
export * from './redis/redis-stream.feed.js';
export * from './redis/redis-stream.source.js';
export * from './redis/redis-events.logger.js';
export * from './transforms/normalize.transform.js';
export * from './transforms/shape.transforms.js';
export * from './transforms/augment.transform.js';
export * from './transforms/image.transforms.js';

/**
 * Every component this plugin registers: data sources (role `dataset`), preprocessing steps (role `transform`) and the
 * Redis events logger (role `logger`).
 */
export const descriptors: readonly ComponentDescriptor[] = [
  mnistDescriptor,
  fashionMnistDescriptor,
  idxDescriptor,
  csvDescriptor,
  jsonlDescriptor,
  npyDescriptor,
  imageFolderDescriptor,
  syntheticDescriptor,
  driftingRegressionDescriptor,
  jsonlStdinDescriptor,
  jsonlFollowDescriptor,
  httpDescriptor,
  feedbackDescriptor,
  redisStreamDescriptor,
  normalizeDescriptor,
  ...shapeDescriptors,
  augmentDescriptor,
  ...imageTransformDescriptors,
  redisEventsDescriptor,
];

/** The `@engram/datasets` plugin manifest: data sources, scenarios and preprocessing steps. */
const manifest: PluginManifest = {
  name: '@engram/datasets',
  apiVersion: 1,
  module: new ContainerModule(({ bind }) => {
    for (const d of descriptors) bind(TOKENS.Component).toConstantValue(d);
  }),
};
export default manifest;
