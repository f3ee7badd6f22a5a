import type { FastifyInstance } from 'fastify';
import type { FeedbackScores } from './feedback-scores.js';
import type { VersionBoard } from './version-board.js';

/**
 * The admin routes of the server: they change which version is served. They need `serve.token`
 * (`config: { access: 'client' }`, serve-auth.ts); `GET /versions` only reads and is an `'observe'`
 * route like `/metrics` (behind `serve.metricsToken` when one is set).
 */
export const ADMIN_ROUTES: ReadonlyArray<{ readonly method: 'POST'; readonly url: string }> = [
  { method: 'POST', url: '/versions/:version/promote' },
  { method: 'POST', url: '/rollback' },
];

/** What the version routes use. */
export interface VersionContext {
  readonly board: VersionBoard;
  readonly scores: FeedbackScores;
  /** Whether `serve.promote` gates versions, and whether the candidate shadows requests. */
  readonly gated: boolean;
  readonly shadow: boolean;
}

/** The body of GET /versions: served and latest version, prequential scores, the history. */
export function versionsBody(ctx: VersionContext): Record<string, unknown> {
  const { board } = ctx;
  const served = board.current?.info;
  const candidate = board.candidate?.info;
  return {
    served: served ?? null,
    latest: candidate ?? served ?? null,
    gated: ctx.gated,
    shadow: ctx.shadow,
    kept: board.kept(),
    counts: board.counts,
    feedback: { served: ctx.scores.role('served'), shadow: ctx.scores.role('shadow') },
    versions: board.history.list(),
  };
}

/**
 * `GET /versions` (history: each version's gate scores and why it was or was not served, the served
 * and latest versions, the prequential accuracy of served and shadow predictions),
 * `POST /versions/{v}/promote` (serve a kept version now, without the gates) and `POST /rollback`
 * (serve the previous served version again). Both POSTs answer with the new state, or 404/409 with the reason.
 */
export function registerVersionRoutes(app: FastifyInstance, ctx: VersionContext): void {
  app.get('/versions', { config: { access: 'observe' } }, async () => versionsBody(ctx));
  app.post<{ Params: { version: string } }>(
    '/versions/:version/promote',
    { config: { access: 'client' } },
    async (req, reply) => {
      const v = Number(req.params.version);
      if (!Number.isInteger(v) || v < 1)
        return reply
          .code(400)
          .send({ error: `/version: expected a version number (1, 2, …), got ${req.params.version}` });
      const why = ctx.board.promote(v);
      if (why !== undefined) return reply.code(404).send({ error: why, reason: 'not-kept' });
      return reply.send(versionsBody(ctx));
    },
  );
  app.post('/rollback', { config: { access: 'client' } }, async (_req, reply) => {
    const why = ctx.board.rollback();
    if (why !== undefined) return reply.code(409).send({ error: why, reason: 'nothing-to-roll-back-to' });
    return reply.send(versionsBody(ctx));
  });
}
