import type { FastifyInstance, FastifyReply } from 'fastify';
import type { FeedbackChannel } from '@engram/datasets';
import type { Batch } from '@engram/core';
import type { ModelVersion } from './model-version.js';
import { FEEDBACK_BODY_SCHEMA, predictBodySchema, type FeedbackBody, type PredictBody } from './request-schemas.js';
import { instanceLength, type ServedData } from './served-data.js';
import type { PredictionStore, StoredPrediction } from './prediction-store.js';
import type { ServeMetrics } from './serve-metrics.js';
import type { VersionBoard } from './version-board.js';
import type { FeedbackScores } from './feedback-scores.js';
import type { GateSamples } from './gate-samples.js';
import { predictionId } from './prediction-id.js';

/**
 * A regression run's answer: each instance's predicted `values` (the model's outputs, in target units),
 * or the index of the first instance whose output is not finite. No class, no probabilities, nothing
 * kept for /feedback (it takes class labels).
 */
function predictValues(
  ctx: PredictionContext,
  version: ModelVersion,
  batch: Batch,
  n: number,
  started: number,
): { predictions: { id: string; values: number[] }[]; model: ModelVersion['info'] } | number {
  const out = version.values(batch.x, n, batch.task);
  const k = out.length / n;
  const bad = out.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) return Math.floor(bad / k);
  const predictions = Array.from({ length: n }, (_, i) => ({
    id: predictionId(),
    values: Array.from(out.subarray(i * k, (i + 1) * k)),
  }));
  ctx.metrics.predictions.inc(n);
  ctx.metrics.latency.observe((performance.now() - started) / 1000);
  return { predictions, model: version.info };
}

/** What the prediction routes use. */
export interface PredictionContext {
  readonly board: VersionBoard;
  readonly metrics: ServeMetrics;
  /** The data's description and preprocessing; undefined until the run has started. */
  readonly data: () => ServedData | undefined;
  /** Where predictions wait for feedback; undefined: read-only serving (no /feedback). */
  readonly store?: PredictionStore;
  /** The `feedback` source channel fed by /feedback. */
  readonly channel: string;
  /** Finds an open feedback channel by name (this thread's, or the training thread's by message). */
  readonly channels: (name: string) => FeedbackChannel | undefined;
  readonly maxInstances: number;
  /** Prequential scores of served and shadow predictions, fed by /feedback. */
  readonly scores?: FeedbackScores;
  /** The promotion gates' samples (labelled feedback, recent inputs); undefined without `serve.promote`. */
  readonly samples?: GateSamples;
  /** `serve.shadow`: the newest unpromoted version predicts every request too. */
  readonly shadow?: boolean;
}

/**
 * The task label of every instance from a body's `task` (one for all, or one per instance), or a
 * one-line error. A model that takes task labels (multi-head, task-incremental) needs one; a model
 * that does not ignores it, as the run's evaluation does.
 */
function taskLabels(
  task: number | number[] | undefined,
  n: number,
  required: boolean,
  data: ServedData,
): Int32Array | string | undefined {
  if (task === undefined) {
    return required
      ? `/task: this model is task-incremental (multi-head): give the task of the instances, "task": t (one for all) ` +
          `or "task": [t, …] (one per instance)${data.tasks !== undefined ? `, t below ${data.tasks}` : ''}`
      : undefined;
  }
  const labels = typeof task === 'number' ? new Int32Array(n).fill(task) : Int32Array.from(task);
  if (labels.length !== n) return `/task: expected one task per instance (${n}), got ${labels.length}`;
  if (data.tasks !== undefined) {
    const bad = labels.findIndex((t) => t >= (data.tasks as number));
    if (bad >= 0)
      return (
        `/task${typeof task === 'number' ? '' : `/${bad}`}: the data has ${data.tasks} tasks (0 to ` +
        `${data.tasks - 1}), got ${labels[bad]}`
      );
  }
  return required ? labels : undefined;
}

/**
 * The shadow's answer (`serve.shadow`): labels of the newest unpromoted version, with its own
 * preprocessing; undefined when there is none or its outputs are not finite.
 */
function shadowLabels(
  board: VersionBoard,
  x: Float32Array,
  n: number,
  data: ServedData,
  task: Int32Array | undefined,
): { labels: Int32Array; version: number } | undefined {
  const candidate = board.candidate;
  if (!candidate) return undefined;
  const batch = candidate.prepare({ x, y: new Int32Array(n), sampleShape: data.inputShape, ...(task ? { task } : {}) });
  const { probabilities, labels } = candidate.classify(batch.x, n, candidate.takesTask ? batch.task : undefined);
  if (probabilities.some((v) => !Number.isFinite(v))) return undefined;
  return { labels, version: candidate.info.version };
}

/** A label arrived: scores the served (and shadow) prediction and keeps the record for the gates. */
function scoreFeedback(ctx: PredictionContext, found: StoredPrediction, y: number): void {
  ctx.samples?.label({ x: found.x, y });
  const scores = ctx.scores;
  if (!scores) return;
  const served = scores.record('served', found.version, found.label, y);
  ctx.board.history.scored(found.version, served.labelled, served.accuracy);
  ctx.metrics.feedbackAccuracy.set({ model: 'served' }, scores.role('served').accuracy);
  if (found.shadow) {
    const shadow = scores.record('shadow', found.shadow.version, found.shadow.label, y);
    ctx.board.history.scored(found.shadow.version, shadow.labelled, shadow.accuracy);
    ctx.metrics.feedbackAccuracy.set({ model: 'shadow' }, scores.role('shadow').accuracy);
  }
}

function fail(reply: FastifyReply, status: number, error: string, extra: Record<string, unknown> = {}): FastifyReply {
  return reply.code(status).send({ error, ...extra });
}

/**
 * `POST /predict` and `POST /feedback`. A prediction is computed synchronously by the version served
 * when the request is handled (so by one version only, with that version's preprocessing and the
 * run's evaluation predictor) and answered with that version's number, step and experience; its inputs are kept in the
 * {@link PredictionStore} for feedback. Feedback takes the
 * stored inputs out of the store and pushes them with the label into the run's `feedback` source.
 */
export function registerPredictionRoutes(app: FastifyInstance, ctx: PredictionContext): void {
  app.post<{ Body: PredictBody }>(
    '/predict',
    { schema: { body: predictBodySchema(ctx.maxInstances) } },
    async (req, reply) => {
      const started = performance.now();
      const data = ctx.data();
      const version = ctx.board.current;
      if (!data || !version)
        return fail(reply, 503, 'no model version yet: the run has not published one (see GET /readyz)');
      const len = instanceLength(data);
      const { instances } = req.body;
      const x = new Float32Array(instances.length * len);
      for (let i = 0; i < instances.length; i++) {
        const row = instances[i] as number[];
        if (row.length !== len)
          return fail(
            reply,
            400,
            `/instances/${i}: expected ${len} numbers (input shape [${data.inputShape.join(', ')}]), got ${row.length}`,
            { path: `/instances/${i}` },
          );
        x.set(row, i * len);
      }
      const n = instances.length;
      const task = taskLabels(req.body.task, n, version.takesTask, data);
      if (typeof task === 'string') return fail(reply, 400, task, { path: '/task' });
      const batch = version.prepare({
        x,
        y: new Int32Array(n),
        sampleShape: data.inputShape,
        ...(task ? { task } : {}),
      });
      if (data.regression) {
        const answer = predictValues(ctx, version, batch, n, started);
        if (typeof answer !== 'number') return reply.send(answer);
        return fail(
          reply,
          400,
          `/instances/${answer}: the model's output for this instance is not finite (its values are too large for the network)`,
          { path: `/instances/${answer}` },
        );
      }
      const { probabilities: probs, labels } = version.classify(batch.x, n, batch.task);
      const k = probs.length / n;
      // Finite float32 inputs can still overflow the network (3e38 × a weight): such an instance is
      // refused, never answered with null probabilities nor stored, so its feedback cannot reach training.
      const poisoned = probs.findIndex((v) => !Number.isFinite(v));
      if (poisoned >= 0) {
        const i = Math.floor(poisoned / k);
        return fail(
          reply,
          400,
          `/instances/${i}: the model's output for this instance is not finite (its values are too large for the network)`,
          { path: `/instances/${i}` },
        );
      }
      const shadow = ctx.shadow ? shadowLabels(ctx.board, x, n, data, task) : undefined;
      const predictions = [];
      for (let i = 0; i < n; i++) {
        const p = Array.from(probs.subarray(i * k, (i + 1) * k));
        const label = labels[i] as number;
        const id = predictionId();
        const raw = x.slice(i * len, (i + 1) * len);
        ctx.samples?.request(raw);
        ctx.store?.put({
          id,
          x: raw,
          label,
          version: version.info.version,
          ...(shadow ? { shadow: { label: shadow.labels[i] as number, version: shadow.version } } : {}),
        });
        const name = data.classNames?.[label];
        predictions.push({ id, label, ...(name !== undefined ? { name } : {}), probabilities: p });
      }
      ctx.metrics.predictions.inc(n);
      ctx.metrics.latency.observe((performance.now() - started) / 1000);
      return reply.send({ predictions, model: version.info });
    },
  );

  app.post<{ Body: FeedbackBody }>('/feedback', { schema: { body: FEEDBACK_BODY_SCHEMA } }, async (req, reply) => {
    const store = ctx.store;
    if (!store) {
      ctx.metrics.feedback.inc({ result: 'no-store' });
      return fail(
        reply,
        404,
        'this server is read-only (engram serve): feedback needs engram run --serve with a feedback source',
        { reason: 'read-only' },
      );
    }
    const channel = ctx.channels(ctx.channel);
    if (!channel) {
      ctx.metrics.feedback.inc({ result: 'no-source' });
      return fail(
        reply,
        409,
        `no feedback source is open on channel "${ctx.channel}": give the pipeline data { "kind": "feedback", ` +
          `"channel": "${ctx.channel}", … } to learn from feedback`,
        { reason: 'no-feedback-source' },
      );
    }
    const { id, y } = req.body;
    const label = typeof y === 'number' ? y : (channel.labels?.indexOf(y) ?? -1);
    if (!Number.isInteger(label) || label < 0 || label >= channel.numClasses) {
      ctx.metrics.feedback.inc({ result: 'bad-label' });
      const known = channel.labels ? `one of ${channel.labels.join(', ')}` : `an integer below ${channel.numClasses}`;
      return fail(reply, 400, `/y: expected ${known}, got ${JSON.stringify(y)}`, { path: '/y' });
    }
    const found = store.take(id);
    if ('missing' in found) {
      ctx.metrics.feedback.inc({ result: found.missing });
      const why = {
        unknown: 'no prediction has this id',
        expired: 'the prediction is older than serve.feedback.ttlSeconds',
        evicted: 'the prediction store was full (serve.feedback.maxBytes) and dropped it',
        'already-labelled': 'feedback for this prediction was already received',
      }[found.missing];
      return fail(reply, 404, `prediction ${id}: ${why}`, { reason: found.missing });
    }
    if (found.x.length !== channel.length) {
      ctx.metrics.feedback.inc({ result: 'shape' });
      return fail(
        reply,
        409,
        `the feedback source takes ${channel.length} features per record, the prediction had ${found.x.length}`,
        { reason: 'shape' },
      );
    }
    try {
      await channel.push({ x: found.x, y: label });
    } catch (e) {
      ctx.metrics.feedback.inc({ result: 'no-source' });
      return fail(reply, 409, `feedback for ${id} was not queued: ${e instanceof Error ? e.message : String(e)}`, {
        reason: 'no-feedback-source',
      });
    }
    ctx.metrics.feedback.inc({ result: 'accepted' });
    scoreFeedback(ctx, found, label);
    return reply
      .code(202)
      .send({ accepted: true, id, y: label, predicted: found.label, version: found.version, queued: channel.depth() });
  });
}
