import { ContainerModule, TOKENS, type ComponentDescriptor, type PluginManifest } from '@engram/core';
import { naiveDescriptors } from './baselines/naive.strategy.js';
import { unionDescriptors } from './baselines/union.strategy.js';
import { ewcDescriptors } from './regularization/ewc.strategy.js';
import { siDescriptors } from './regularization/si.strategy.js';
import { masDescriptors } from './regularization/mas.strategy.js';
import { lwfDescriptors } from './regularization/lwf.strategy.js';
import { replayDescriptors } from './replay/replay.strategy.js';
import { agemDescriptors } from './replay/agem.strategy.js';
import { derppDescriptors } from './replay/derpp.strategy.js';
import { gdumbDescriptors } from './replay/gdumb.strategy.js';
import { erAceDescriptors } from './replay/er-ace.strategy.js';
import { icarlDescriptors } from './replay/icarl.strategy.js';
import { hedgeDescriptors } from './hedge/hedge.strategy.js';
import { pageHinkleyDescriptors } from './detectors/page-hinkley.detector.js';
import { adwinDescriptors } from './detectors/adwin.detector.js';
import { everyNDescriptors } from './detectors/every-n.detector.js';
import { multiHeadDescriptors } from './adjust/multi-head.adjustment.js';
import { labelModuloDescriptors } from './transforms/label-modulo.transform.js';

// The public API: the plugin manifest, its components (classes, descriptors, option schemas) and the
// building blocks a third-party strategy may reuse (replay buffer, Hedge and multi-head models).
export * from './baselines/naive.strategy.js';
export * from './baselines/union.strategy.js';
export * from './regularization/ewc.strategy.js';
export * from './regularization/si.strategy.js';
export * from './regularization/mas.strategy.js';
export * from './regularization/lwf.strategy.js';
export { diagonalFisher, batchedFisherApplies } from './regularization/fisher.js';
export * from './replay/replay-buffer.js';
export * from './replay/replay.strategy.js';
export * from './replay/agem.strategy.js';
export * from './replay/derpp.strategy.js';
export * from './replay/gdumb.strategy.js';
export * from './replay/er-ace.strategy.js';
export * from './replay/herding.js';
export * from './replay/icarl.strategy.js';
export * from './replay/icarl-loss.js';
export * from './replay/nearest-mean.js';
export * from './hedge/hedge.model.js';
export * from './hedge/hedge.strategy.js';
export * from './detectors/page-hinkley.detector.js';
export * from './detectors/adwin.detector.js';
export * from './detectors/every-n.detector.js';
export * from './adjust/multi-head.model.js';
export * from './adjust/multi-head.adjustment.js';
export * from './transforms/label-modulo.transform.js';

/** Every component this plugin registers, in the order `engram plugins` lists them. */
export const descriptors: readonly ComponentDescriptor[] = [
  ...naiveDescriptors,
  ...unionDescriptors,
  ...ewcDescriptors,
  ...siDescriptors,
  ...masDescriptors,
  ...lwfDescriptors,
  ...replayDescriptors,
  ...agemDescriptors,
  ...derppDescriptors,
  ...gdumbDescriptors,
  ...erAceDescriptors,
  ...icarlDescriptors,
  ...hedgeDescriptors,
  ...pageHinkleyDescriptors,
  ...adwinDescriptors,
  ...everyNDescriptors,
  ...multiHeadDescriptors,
  ...labelModuloDescriptors,
];

/**
 * The plugin manifest of `@engram/strategies`: name it in a pipeline's `"plugins"` to register the
 * first-party strategies, boundary detectors (`page-hinkley`, `adwin`, `every-n`), the `multi-head`
 * model adjustment and the `label-modulo` transform (domain-incremental split scenarios).
 */
const manifest: PluginManifest = {
  name: '@engram/strategies',
  apiVersion: 1,
  module: new ContainerModule(({ bind }) => {
    for (const d of descriptors) bind(TOKENS.Component).toConstantValue(d);
  }),
};

export default manifest;
