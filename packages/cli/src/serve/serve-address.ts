/** Where a server listens. */
export interface ServeAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * Parses `--serve [HOST:]PORT` (`8080`, `0.0.0.0:8080`, `[::1]:8080`); the host defaults to
 * `defaultHost` (loopback). Throws a one-line error for anything else.
 */
export function parseServeAddress(value: string, defaultHost = '127.0.0.1'): ServeAddress {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || !Number.isInteger(port) || port > 65535)
    throw new Error(`--serve expects [HOST:]PORT (e.g. 8080 or 127.0.0.1:8080), got "${value}"`);
  const host = m[1] === undefined ? defaultHost : m[1].replace(/^\[(.*)\]$/, '$1');
  return { host, port };
}
