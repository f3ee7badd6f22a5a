import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { RedisOptions } from 'ioredis';
import { PipelineError, Type } from '@engram/core';

/**
 * Where and how to reach a Redis server: the one description every Redis client of Engram is built
 * from (the `redis-stream` source and logger, `engram serve --redis`, sweeps and workers).
 * AUTH comes from the URL (`redis://[user:password@]host:port[/db]`, an ACL user with `user:`,
 * the default user with `:password@`); TLS from a `rediss://` URL, with `ca` naming the PEM file of
 * a private certificate authority.
 */
export interface RedisTarget {
  /** The server URL, its `${NAME}`s already expanded. */
  readonly url: string;
  /** Absolute path of a PEM file of the CA that signed the server's certificate (implies TLS). */
  readonly ca?: string;
  /** Where to name the CA file in an error (a JSON pointer such as `/data/ca`, or a flag). */
  readonly caWhere?: string;
}

/** The `ca` option of the Redis components. */
export const redisCaOption = Type.Optional(
  Type.String({
    minLength: 1,
    description:
      'PEM file of the certificate authority that signed the Redis server certificate (relative to the pipeline ' +
      'folder), for a rediss:// server whose certificate a public CA did not sign; implies TLS.',
  }),
);

/** A Redis target whose CA file (if any) is relative to `baseDir`. */
export function redisTarget(url: string, ca: string | undefined, baseDir: string, caWhere?: string): RedisTarget {
  return {
    url,
    ...(ca !== undefined ? { ca: resolve(baseDir, ca) } : {}),
    ...(caWhere !== undefined ? { caWhere } : {}),
  };
}

/**
 * The ioredis options that carry a target's TLS settings (the URL carries host, port, db and AUTH):
 * TLS for a `rediss://` URL or a CA file; the server's certificate is always verified. Throws
 * `<where>: cannot read the CA file <path>: <reason>` for a CA file that cannot be read (a
 * {@link PipelineError} when `where` is a JSON pointer).
 */
export function redisTlsOptions(target: RedisTarget): Pick<RedisOptions, 'tls'> {
  if (target.ca === undefined) return /^rediss:\/\//i.test(target.url) ? { tls: {} } : {};
  let ca: Buffer;
  try {
    ca = readFileSync(target.ca);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'unreadable';
    const where = target.caWhere ?? 'ca';
    const message = `cannot read the CA file ${target.ca}: ${code}`;
    // A pipeline option (a JSON pointer) is a bad pipeline: exit 2 with the pointer.
    if (where.startsWith('/')) throw PipelineError.at(where, message);
    throw new Error(`${where}: ${message}`, { cause: e });
  }
  return { tls: { ca, rejectUnauthorized: true } };
}

/** Error codes of a TLS handshake whose server certificate could not be trusted. */
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * Why connecting again cannot help — the server refused the credentials or its certificate is not
 * trusted — as one line without secrets; undefined for errors worth retrying (refused, reset, timeout).
 */
export function fatalRedisError(e: Error): string | undefined {
  const code = (e as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && UNTRUSTED.has(code))
    return `the server's TLS certificate is not trusted (${code}; give the CA file that signed it)`;
  const first = e.message.split('\n')[0] ?? '';
  if (/^(WRONGPASS|NOAUTH|NOPERM)\b/.test(first) || /invalid (username-)?password/i.test(first))
    return `authentication failed (${first.replace(/\.$/, '')}; check the user and password in the URL)`;
  return undefined;
}
