import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * Who may call a route of the model server, set per route as `config: { access }`:
 * - `'open'`: anyone (`/healthz`, `/readyz`);
 * - `'observe'`: read-only views of the run (`/metrics`, `/events`, the dashboard), behind
 *   `serve.metricsToken` when one is set;
 * - `'client'` (the default of a route that says nothing): `serve.token` — `/predict`, `/feedback`
 *   and every admin endpoint, so a route added later is locked unless it opts out.
 */
export type RouteAccess = 'open' | 'observe' | 'client';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route ({@link RouteAccess}); absent: `'client'`. */
    access?: RouteAccess;
  }
}

/** The bearer tokens of a server (resolved values, never logged). */
export interface ServeTokens {
  /** Required on `'client'` routes; absent: they are open. */
  readonly token?: string;
  /** Required on `'observe'` routes; absent: they are open. */
  readonly metricsToken?: string;
}

/**
 * One expected bearer token, kept as its SHA-256 digest. {@link matches} hashes the presented token
 * and compares the digests with `crypto.timingSafeEqual`: the time taken does not depend on how much
 * of the token was right, nor on its length.
 */
export class BearerToken {
  private readonly digest: Buffer;

  constructor(token: string) {
    this.digest = createHash('sha256').update(token, 'utf8').digest();
  }

  /** Whether an `Authorization` header value carries this token (`Bearer <token>`, scheme case-insensitive). */
  matches(header: string | undefined): boolean {
    const presented = /^Bearer +(\S+) *$/i.exec(header ?? '')?.[1] ?? '';
    const digest = createHash('sha256').update(presented, 'utf8').digest();
    return timingSafeEqual(digest, this.digest) && presented !== '';
  }
}

/** Answers 401 with the `WWW-Authenticate` challenge of RFC 6750. */
function refuse(reply: FastifyReply, presented: boolean, realm: string): FastifyReply {
  const challenge = presented ? `Bearer realm="${realm}", error="invalid_token"` : `Bearer realm="${realm}"`;
  return reply
    .code(401)
    .header('www-authenticate', challenge)
    .send({
      error: presented
        ? 'wrong bearer token'
        : 'this endpoint needs a bearer token: send the header "Authorization: Bearer <token>"',
    });
}

/**
 * Locks the routes of `app` (call before registering them): an `onRequest` hook — it runs before the
 * body is read, so a refused request is never parsed, predicted or learned from — checks each
 * request against the token its route's {@link RouteAccess} needs and answers 401 otherwise. A server
 * without tokens is left as it was. The tokens never appear in an answer or a log line.
 */
export function guardRoutes(app: FastifyInstance, tokens: ServeTokens): void {
  const client = tokens.token !== undefined ? new BearerToken(tokens.token) : undefined;
  const observe = tokens.metricsToken !== undefined ? new BearerToken(tokens.metricsToken) : undefined;
  if (!client && !observe) return;
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const access = (req.routeOptions.config as { access?: RouteAccess } | undefined)?.access ?? 'client';
    const needed = access === 'open' ? undefined : access === 'observe' ? observe : client;
    if (!needed) return;
    const header = req.headers.authorization;
    if (needed.matches(header)) return;
    return refuse(reply, header !== undefined, access === 'observe' ? 'engram-metrics' : 'engram');
  });
}
