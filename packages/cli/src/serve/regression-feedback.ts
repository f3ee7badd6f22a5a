import type { FastifyReply } from 'fastify';
import type { FeedbackChannel } from '@engram/datasets';
import type { PredictionStore } from './prediction-store.js';
import type { FeedbackBody } from './request-schemas.js';
import type { ServeMetrics } from './serve-metrics.js';
import type { FeedbackScores } from './feedback-scores.js';

/** What the regression feedback route uses (a part of the prediction routes' context). */
export interface RegressionFeedbackContext {
  readonly store: PredictionStore;
  readonly metrics: ServeMetrics;
  readonly scores?: FeedbackScores;
}

/** The targets of a feedback body for a channel of `count` targets, or the one-line reason they are refused. */
function targetsOf(body: FeedbackBody, count: number): Float32Array | string {
  const raw = body.target;
  if (raw === undefined)
    return `/target: this run is a regression: give the prediction's true value, "target": ${count === 1 ? 'v' : `[v, …] (${count} values)`}`;
  const values = typeof raw === 'number' ? [raw] : raw;
  if (values.length !== count) return `/target: expected ${count} value${count === 1 ? '' : 's'}, got ${values.length}`;
  return Float32Array.from(values);
}

/**
 * POST /feedback of a regression run (its feedback channel has `targets`): takes the prediction out of
 * the store, pushes its inputs with the true `target` into the run's `feedback` source (trained on
 * test-then-train, scored by prequential MAE), and scores the served prediction by its absolute error
 * (mean over the targets). Answers 202 with the prediction's values, that error and the served
 * predictions' running MAE; 400 for a missing or misshapen target, 404 for an unknown prediction.
 */
export async function regressionFeedback(
  ctx: RegressionFeedbackContext,
  channel: FeedbackChannel,
  targets: number,
  body: FeedbackBody,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const fail = (status: number, error: string, extra: Record<string, unknown>): FastifyReply =>
    reply.code(status).send({ error, ...extra });
  const t = targetsOf(body, targets);
  if (typeof t === 'string') {
    ctx.metrics.feedback.inc({ result: 'bad-label' });
    return fail(400, t, { path: '/target' });
  }
  const found = ctx.store.take(body.id);
  if ('missing' in found) {
    ctx.metrics.feedback.inc({ result: found.missing });
    return fail(404, `prediction ${body.id}: ${found.missing}`, { reason: found.missing });
  }
  const values = found.values;
  if (!values || values.length !== t.length || found.x.length !== channel.length) {
    ctx.metrics.feedback.inc({ result: 'shape' });
    return fail(409, `prediction ${body.id} was not a regression prediction of this run's shape`, { reason: 'shape' });
  }
  try {
    await channel.push({ x: found.x, y: 0, t });
  } catch (e) {
    ctx.metrics.feedback.inc({ result: 'no-source' });
    return fail(409, `feedback for ${body.id} was not queued: ${e instanceof Error ? e.message : String(e)}`, {
      reason: 'no-feedback-source',
    });
  }
  ctx.metrics.feedback.inc({ result: 'accepted' });
  let error = 0;
  for (let i = 0; i < t.length; i++) error += Math.abs((values[i] as number) - (t[i] as number));
  error /= t.length;
  const served = ctx.scores?.recordError(error);
  return reply.code(202).send({
    accepted: true,
    id: body.id,
    target: Array.from(t),
    predicted: Array.from(values),
    absoluteError: error,
    ...(served ? { mae: served.mae, windowMae: served.windowMae, labelled: served.labelled } : {}),
    version: found.version,
    queued: channel.depth(),
  });
}
