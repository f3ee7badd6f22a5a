import type { AddressInfo } from 'node:net';
import type { EngramEvent, ServePromoteSettings } from '@engram/core';
import { fastify, type FastifyError, type FastifyInstance } from 'fastify';
import type { Observable, Subscription } from 'rxjs';
import { dashboardPage } from './dashboard-page.js';
import { EventFeed } from './event-feed.js';
import { PredictionStore } from './prediction-store.js';
import { registerPredictionRoutes } from './prediction-routes.js';
import { FLOAT32_MAX } from './request-schemas.js';
import type { ServedData } from './served-data.js';
import { ServeMetrics } from './serve-metrics.js';
import { guardRoutes } from './serve-auth.js';
import type { ServeDoors } from './serve-doors.js';
import { VersionBoard } from './version-board.js';
import { FeedbackScores } from './feedback-scores.js';
import { GateSamples } from './gate-samples.js';
import { judge } from './promotion-gate.js';
import type { VersionDecision } from './version-history.js';
import { registerVersionRoutes } from './version-routes.js';
import { feedbackChannel, type FeedbackChannel } from '@engram/datasets';

/** Options of a {@link ModelServer}. */
export interface ModelServerOptions {
  readonly host: string;
  readonly port: number;
  readonly bodyLimit: number;
  readonly maxInstances: number;
  /** Prediction store for /feedback; absent: read-only serving. */
  readonly feedback?: { readonly channel: string; readonly ttlSeconds: number; readonly maxBytes: number };
  /** The data's description (known once the run starts, or from a checkpoint). */
  readonly data: () => ServedData | undefined;
  /**
   * Finds the run's open feedback channel by name (default: the channels of this thread's runs; a
   * server in its own thread passes the training thread's, relayed by message).
   */
  readonly channels?: (name: string) => FeedbackChannel | undefined;
  /** Bearer tokens and TLS (absent: plain http, every route open). */
  readonly doors?: ServeDoors;
  /** `serve.promote`: the gates a new version must pass; absent: every built version is served. */
  readonly promote?: ServePromoteSettings;
  /** `serve.shadow`: the newest unpromoted version also predicts every request. */
  readonly shadow?: boolean;
}

/** How a fastify error maps to an answer: 400 with the JSON path, 413, 415, or the error's own 4xx; 500 for the rest. */
function errorAnswer(err: FastifyError): { status: number; body: Record<string, unknown> } {
  const first = err.validation?.[0];
  if (first) {
    const params = first.params as
      { missingProperty?: string; additionalProperty?: string; limit?: unknown } | undefined;
    const extra = params?.missingProperty ?? params?.additionalProperty;
    const path = `${first.instancePath}${extra !== undefined ? `/${extra}` : ''}` || '/';
    const float32 = params?.limit === FLOAT32_MAX || params?.limit === -FLOAT32_MAX;
    const message = float32
      ? `not a finite float32 number (beyond ±${FLOAT32_MAX}, it would overflow to Infinity)`
      : (first.message ?? 'invalid');
    return { status: 400, body: { error: `${path}: ${message}`, path } };
  }
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return {
      status: 413,
      body: { error: `body larger than ${err.message.match(/\d+/)?.[0] ?? 'the limit'} bytes (serve.bodyLimit)` },
    };
  const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
  return { status, body: { error: err.message.split('\n')[0] ?? 'error' } };
}

/**
 * The HTTP server of a live or read-only model: `POST /predict`, `POST /feedback`, `GET /metrics`
 * (Prometheus), `GET /healthz`, `GET /readyz`, `GET /events` (Server-Sent Events) and `GET /` (the
 * live dashboard). `/predict`, `/feedback` and any route that does not say otherwise need `doors.token`
 * when set, `/metrics`, `/events` and `/` need `doors.metricsToken` when set, `/healthz` and `/readyz`
 * are open ({@link guardRoutes}); with `doors.tls` it serves https. Every failure is answered (400 with the JSON path of a bad body, 413 over
 * `bodyLimit`, 404/409 with a reason), never thrown into the process.
 */
export class ModelServer {
  /** Keeps one earlier served version for POST /rollback. */
  readonly board = new VersionBoard({ keep: 1 });
  /** Delayed-label scores of served and shadow predictions. */
  readonly scores = new FeedbackScores();
  /** What the promotion gates score versions on (undefined without `serve.promote`). */
  readonly samples: GateSamples | undefined;
  readonly events = new EventFeed();
  readonly store: PredictionStore | undefined;
  readonly metrics: ServeMetrics;
  private readonly app: FastifyInstance;
  private subscription: Subscription | undefined;
  private readonly eventListeners: Array<(e: EngramEvent) => void> = [];

  constructor(private readonly options: ModelServerOptions) {
    const fb = options.feedback;
    const channels = options.channels ?? feedbackChannel;
    this.store = fb ? new PredictionStore({ ttlMs: fb.ttlSeconds * 1000, maxBytes: fb.maxBytes }) : undefined;
    this.metrics = new ServeMetrics({
      queueDepth: () => (fb ? (channels(fb.channel)?.depth() ?? 0) : 0),
      store: () => ({ bytes: this.store?.bytes ?? 0, entries: this.store?.size ?? 0 }),
      failedBuilds: () => this.board.failedBuilds,
    });
    this.board.onPublish((v) => {
      this.metrics.version.set(v.info.version);
      this.metrics.versionStep.set(v.info.step);
    });
    const promote = options.promote;
    this.samples = promote ? new GateSamples(promote.feedback?.last ?? 200) : undefined;
    const samples = this.samples;
    if (promote && samples)
      this.board.gateWith((candidate, served) =>
        judge(candidate, served, samples, promote, this.options.data()?.inputShape ?? candidate.inputShape),
      );
    this.board.onDecision((d: VersionDecision) => {
      if (d.type === 'version-promoted') this.metrics.promoted.inc({ reason: d.reason });
      else this.metrics.rejected.inc({ check: d.check });
    });
    // Bodies are validated as sent: no type coercion, no silently removed properties.
    const base = {
      logger: false,
      bodyLimit: options.bodyLimit,
      forceCloseConnections: true,
      ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false } },
    };
    const tls = options.doors?.tls;
    // The routes are the same over https; only the listening server differs.
    this.app = tls ? fastify({ ...base, https: tls }) : fastify(base);
    guardRoutes(this.app, options.doors ?? {});
    this.app.setErrorHandler((err: FastifyError, _req, reply) => {
      const { status, body } = errorAnswer(err);
      void reply.code(status).send(body);
    });
    this.app.setNotFoundHandler((req, reply) => {
      void reply.code(404).send({
        error:
          `no route ${req.method} ${req.url.split('?')[0] ?? ''}; see GET / for the dashboard, POST /predict, ` +
          `POST /feedback, GET /versions, POST /rollback, GET /metrics, /healthz, /readyz, /events`,
      });
    });
    this.routes();
  }

  private routes(): void {
    const app = this.app;
    const open = { config: { access: 'open' as const } };
    const observe = { config: { access: 'observe' as const } };
    app.get('/healthz', open, async () => ({ status: 'ok' }));
    app.get('/readyz', open, async (_req, reply) => {
      const v = this.board.current;
      const data = this.options.data();
      if (!v || !data) return reply.code(503).send({ ready: false, reason: 'no model version published yet' });
      return { ready: true, model: v.info, inputShape: data.inputShape, numClasses: data.numClasses };
    });
    app.get('/metrics', observe, async (_req, reply) =>
      reply.header('content-type', this.metrics.registry.contentType).send(await this.metrics.render()),
    );
    app.get('/events', observe, (_req, reply) => {
      reply.hijack();
      this.events.attach(reply.raw);
    });
    let page: string | undefined;
    app.get('/', observe, async (_req, reply) =>
      reply.header('content-type', 'text/html; charset=utf-8').send((page ??= dashboardPage())),
    );
    registerPredictionRoutes(app, {
      board: this.board,
      metrics: this.metrics,
      data: this.options.data,
      ...(this.store ? { store: this.store } : {}),
      channel: this.options.feedback?.channel ?? 'default',
      channels: this.options.channels ?? feedbackChannel,
      maxInstances: this.options.maxInstances,
      scores: this.scores,
      ...(this.samples ? { samples: this.samples } : {}),
      shadow: this.options.shadow === true,
    });
    registerVersionRoutes(app, {
      board: this.board,
      scores: this.scores,
      gated: this.options.promote !== undefined,
      shadow: this.options.shadow === true,
    });
  }

  /** Starts listening; resolves with the bound address (port 0: a free one). */
  async listen(): Promise<AddressInfo> {
    try {
      await this.app.listen({ host: this.options.host, port: this.options.port });
    } catch (e) {
      throw new Error(`cannot serve on ${this.options.host}:${this.options.port}: ${(e as Error).message}`, {
        cause: e,
      });
    }
    return this.app.server.address() as AddressInfo;
  }

  /** Calls `listener` with every run event the server observes. */
  onEvent(listener: (e: EngramEvent) => void): void {
    this.eventListeners.push(listener);
  }

  /** Follows a run's events: metrics, the SSE feed, listeners. An observer's failure never reaches the run. */
  observe(events$: Observable<EngramEvent>): void {
    this.subscription = events$.subscribe({
      next: (e) => {
        this.metrics.observe(e);
        this.events.publish(e);
        for (const l of this.eventListeners) l(e);
      },
    });
  }

  /** Stops listening, ends event streams and frees the served model. */
  async close(): Promise<void> {
    this.subscription?.unsubscribe();
    this.events.close();
    await this.app.close();
    await this.board.close();
  }
}
