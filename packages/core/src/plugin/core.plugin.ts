import type { Static } from '@sinclair/typebox';
import { ContainerModule } from 'inversify';
import { FreezeAdjustment, FreezeOptions } from '../model/freeze.adjustment.js';
import { GrowHeadAdjustment, GrowHeadOptions } from '../model/grow-head.adjustment.js';
import type { ComponentDescriptor } from './component-descriptor.js';
import { PLUGIN_API_VERSION, type PluginManifest } from './plugin-manifest.js';
import { TOKENS } from './tokens.js';

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
];

/** Components core provides itself (model adjustments); always loaded, before any plugin. */
export const corePlugin: PluginManifest = {
  name: '@engram/core',
  apiVersion: PLUGIN_API_VERSION,
  module: new ContainerModule(({ bind }) => {
    for (const d of descriptors) bind(TOKENS.Component).toConstantValue(d);
  }),
};
