import type { Static } from '@sinclair/typebox';
import { ContainerModule } from 'inversify';
import { FreezeAdjustment, FreezeOptions } from '../model/freeze.adjustment.js';
import { GrowHeadAdjustment, GrowHeadOptions } from '../model/grow-head.adjustment.js';
import { InsertLayerAdjustment, InsertLayerOptions } from '../model/insert-layer.adjustment.js';
import { ReinitLayersAdjustment, ReinitLayersOptions } from '../model/reinit-layers.adjustment.js';
import { SetActivationAdjustment, SetActivationOptions } from '../model/set-activation.adjustment.js';
import { WidenLayerAdjustment, WidenLayerOptions } from '../model/widen-layer.adjustment.js';
import { CsvLogger, CsvOptions } from '../logging/csv.logger.js';
import { TensorBoardLogger, TensorBoardOptions } from '../logging/tensorboard.logger.js';
import type { ComponentDescriptor } from '../plugin-api/component-descriptor.js';
import { PLUGIN_API_VERSION, type PluginManifest } from '../plugin-api/plugin-manifest.js';
import { TOKENS } from '../plugin/tokens.js';

const descriptors: ComponentDescriptor[] = [
  {
    role: 'adjust',
    kind: 'grow-head',
    description: 'Widen the classifier head when new classes appear, keeping trained weights.',
    options: GrowHeadOptions,
    create: (o) => new GrowHeadAdjustment(o as Static<typeof GrowHeadOptions>),
  },
  {
    role: 'adjust',
    kind: 'freeze',
    description: 'Stop training the named (or first N) layers from a given experience on.',
    options: FreezeOptions,
    create: (o) => new FreezeAdjustment(o as Static<typeof FreezeOptions>),
  },
  {
    role: 'adjust',
    kind: 'insert-layer',
    description:
      'Insert a dense or conv2d layer after a named one, starting as the identity (Net2DeeperNet) so the function is kept.',
    options: InsertLayerOptions,
    create: (o, s) => new InsertLayerAdjustment(o as Static<typeof InsertLayerOptions>, s.events),
  },
  {
    role: 'adjust',
    kind: 'widen-layer',
    description:
      'Widen dense or conv2d layers to N units by copying units and splitting their outgoing weights (Net2WiderNet), keeping the function.',
    options: WidenLayerOptions,
    create: (o) => new WidenLayerAdjustment(o as Static<typeof WidenLayerOptions>),
  },
  {
    role: 'adjust',
    kind: 'set-activation',
    description: 'Replace the activation function of named layers (changes the function; logged as a warning).',
    options: SetActivationOptions,
    create: (o, s) => new SetActivationAdjustment(o as Static<typeof SetActivationOptions>, s.events),
  },
  {
    role: 'adjust',
    kind: 'reinit-layers',
    description: "Re-initialise named layers from the run's seeded generator, with fresh optimizer slots.",
    options: ReinitLayersOptions,
    create: (o, s) => new ReinitLayersAdjustment(o as Static<typeof ReinitLayersOptions>, s.events),
  },
  {
    role: 'logger',
    kind: 'tensorboard',
    description:
      'TensorBoard event files: loss, accuracy, prequential and per-experience accuracy, ACC/BWT/forgetting, throughput, the accuracy matrix as text.',
    options: TensorBoardOptions,
    create: (o) => new TensorBoardLogger(o as TensorBoardOptions),
  },
  {
    role: 'logger',
    kind: 'csv',
    description:
      'One CSV file per event type (<dir>/<type>.csv): header once, rows appended, no duplicates after --resume.',
    options: CsvOptions,
    create: (o) => new CsvLogger(o),
  },
];

/** Components core provides itself (model adjustments, the tensorboard and csv loggers); always loaded, before any plugin. */
export const corePlugin: PluginManifest = {
  name: '@engram/core',
  apiVersion: PLUGIN_API_VERSION,
  module: new ContainerModule(({ bind }) => {
    for (const d of descriptors) bind(TOKENS.Component).toConstantValue(d);
  }),
};
