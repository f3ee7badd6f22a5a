import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { PipelineError, REDACTED, type ServeSettings } from '@engram/core';
import { expandEnv } from '@engram/datasets';
import type { ServeTokens } from './serve-auth.js';

/** A server's key and certificate chain (PEM text). */
export interface ServeTls {
  readonly key: string;
  readonly cert: string;
}

/**
 * How a model server is locked: its bearer tokens ({@link ServeTokens}) and, for https, its key and
 * certificate. Resolved once, before the server starts, from the pipeline's `serve` section
 * ({@link pipelineDoors}) or from `engram serve`'s flags ({@link flagDoors}).
 */
export interface ServeDoors extends ServeTokens {
  readonly tls?: ServeTls;
}

/** A bad setting, said at `where`: a {@link PipelineError} for a JSON pointer (exit 2), else an Error. */
function problem(where: string, message: string): Error {
  return where.startsWith('/') ? PipelineError.at(where, message) : new Error(`${where}: ${message}`);
}

/** `text` with its `${NAME}`s expanded; an unset variable is an error at `where`. */
function secret(text: string, where: string, env: NodeJS.ProcessEnv): string {
  try {
    return expandEnv(text, env, where);
  } catch (e) {
    throw problem(where, (e as Error).message.slice(where.length + 2));
  }
}

/** Reads a PEM file; a missing or unreadable one is an error at `where` (its content is never quoted). */
function pem(path: string, where: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw problem(where, `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
}

/** Reads and checks a key and certificate: they must load as a TLS context (a matching pair). */
function tlsPair(keyPath: string, certPath: string, keyWhere: string, certWhere: string, where: string): ServeTls {
  const tls = { key: pem(keyPath, keyWhere), cert: pem(certPath, certWhere) };
  try {
    createSecureContext(tls);
  } catch (e) {
    const reason = ((e as Error).message.split('\n')[0] ?? '').replace(/^error:[0-9A-F]+:/i, '');
    throw problem(where, `the key and certificate cannot serve TLS (${reason})`);
  }
  return tls;
}

/**
 * The doors of `engram run --serve` from the pipeline's `serve` settings: `token` and `metricsToken`
 * with `${NAME}` expanded from `env`, `tls.key` and `tls.cert` read relative to `baseDir`. Called by
 * the run command before anything starts; every problem is a {@link PipelineError} at its pointer
 * (`/serve/token: environment variable ENGRAM_SERVE_TOKEN is not set`, `/serve/tls/key: cannot read …`).
 */
export function pipelineDoors(settings: ServeSettings, baseDir: string, env = process.env): ServeDoors {
  return {
    ...(settings.token !== undefined ? { token: secret(settings.token, '/serve/token', env) } : {}),
    ...(settings.metricsToken !== undefined
      ? { metricsToken: secret(settings.metricsToken, '/serve/metricsToken', env) }
      : {}),
    ...(settings.tls !== undefined
      ? {
          tls: tlsPair(
            resolve(baseDir, settings.tls.key),
            resolve(baseDir, settings.tls.cert),
            '/serve/tls/key',
            '/serve/tls/cert',
            '/serve/tls',
          ),
        }
      : {}),
  };
}

/** `engram serve`'s flags that lock the server. */
export interface DoorFlags {
  /** Environment variable holding the bearer token of /predict and admin endpoints. */
  readonly tokenEnv?: string;
  /** Environment variable holding the bearer token of /metrics. */
  readonly metricsTokenEnv?: string;
  readonly tlsKey?: string;
  readonly tlsCert?: string;
}

/** A token read from the environment variable a flag names; unset or empty is an error naming both. */
function fromEnv(name: string, flag: string, env: NodeJS.ProcessEnv): string {
  const value = env[name];
  if (value === undefined || value === '') throw new Error(`${flag} ${name}: environment variable ${name} is not set`);
  return value;
}

/**
 * The doors of `engram serve` from its flags (files relative to the working directory). Throws one
 * line naming the flag: an unset variable, a missing file, `--tls-key` without `--tls-cert`.
 */
export function flagDoors(flags: DoorFlags, env = process.env): ServeDoors {
  if ((flags.tlsKey === undefined) !== (flags.tlsCert === undefined))
    throw new Error('--tls-key and --tls-cert go together: give both, or neither for plain http');
  return {
    ...(flags.tokenEnv !== undefined ? { token: fromEnv(flags.tokenEnv, '--token-env', env) } : {}),
    ...(flags.metricsTokenEnv !== undefined
      ? { metricsToken: fromEnv(flags.metricsTokenEnv, '--metrics-token-env', env) }
      : {}),
    ...(flags.tlsKey !== undefined && flags.tlsCert !== undefined
      ? {
          tls: tlsPair(
            resolve(flags.tlsKey),
            resolve(flags.tlsCert),
            '--tls-key',
            '--tls-cert',
            '--tls-key/--tls-cert',
          ),
        }
      : {}),
  };
}

/**
 * The tokens `engram serve` inherits from the run it serves when no flag names them: a stored
 * `${NAME}` is read from the environment again (unset: an error saying which flag to give), so
 * replicas of a locked run stay locked. A token the pipeline held literally was stored as
 * `[redacted]`: an error asks for `--token-env` / `--metrics-token-env` rather than serving open.
 */
export function storedTokens(
  serve: Pick<ServeSettings, 'token' | 'metricsToken'> | undefined,
  flags: DoorFlags,
  env = process.env,
): ServeTokens {
  const inherit = (stored: string | undefined, key: string, flag: string): string | undefined => {
    if (stored === undefined) return undefined;
    const where = `the run's serve.${key}`;
    if (stored.includes(REDACTED))
      throw new Error(`${where} was written literally in its pipeline and is not stored: give ${flag} NAME`);
    try {
      return expandEnv(stored, env, where);
    } catch (e) {
      throw new Error(`${(e as Error).message} (or give ${flag} NAME)`, { cause: e });
    }
  };
  const token = flags.tokenEnv === undefined ? inherit(serve?.token, 'token', '--token-env') : undefined;
  const metricsToken =
    flags.metricsTokenEnv === undefined
      ? inherit(serve?.metricsToken, 'metricsToken', '--metrics-token-env')
      : undefined;
  return { ...(token !== undefined ? { token } : {}), ...(metricsToken !== undefined ? { metricsToken } : {}) };
}
