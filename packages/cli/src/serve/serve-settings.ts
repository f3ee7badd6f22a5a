import type { PipelineDefinition, ServeSettings } from '@engram/core';
import { parseServeAddress } from './serve-address.js';

/** Defaults of `serve` when only `--serve` is given (the pipeline schema's defaults). */
const DEFAULTS: ServeSettings = {
  host: '127.0.0.1',
  port: 8080,
  bodyLimit: 1048576,
  maxInstances: 1024,
  linger: true,
  feedback: { channel: 'default', ttlSeconds: 600, maxBytes: 67108864 },
  shadow: false,
};

/** Steps between versions when the default policy would publish only at experience ends (no batch/time checkpoints). */
export const FALLBACK_EVERY = 100;

/** The pipeline's `serve` settings with `--serve [HOST:]PORT` applied (the flag wins); undefined: no server. */
export function serveSettings(def: PipelineDefinition, flag: string | undefined): ServeSettings | undefined {
  if (flag === undefined && def.serve === undefined) return undefined;
  const base = def.serve ?? DEFAULTS;
  if (flag === undefined) return base;
  const { host, port } = parseServeAddress(flag, base.host);
  return { ...base, host, port };
}
