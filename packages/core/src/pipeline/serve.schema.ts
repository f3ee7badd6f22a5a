import { Type, type Static } from '@sinclair/typebox';

const strict = { additionalProperties: false } as const;

/** `serve.feedback`: the delayed-label loop's prediction store. */
export const ServeFeedbackSchema = Type.Object(
  {
    channel: Type.String({
      minLength: 1,
      default: 'default',
      description: 'Name of the `feedback` data source that receives labelled predictions (its `channel` option).',
    }),
    ttlSeconds: Type.Number({
      exclusiveMinimum: 0,
      default: 600,
      description: 'A prediction can receive feedback for this long; later its id is unknown (404, reason "expired").',
    }),
    maxBytes: Type.Integer({
      minimum: 1024,
      default: 67108864,
      description:
        'Bytes of stored prediction inputs kept for feedback; the oldest are evicted first (404, reason "evicted").',
    }),
  },
  strict,
);

/** `serve.tls`: serve https with these PEM files. */
export const ServeTlsSchema = Type.Object(
  {
    key: Type.String({
      minLength: 1,
      description: 'PEM file of the private key (relative to the pipeline folder).',
    }),
    cert: Type.String({
      minLength: 1,
      description: 'PEM file of the certificate, with its chain (relative to the pipeline folder).',
    }),
  },
  strict,
);

/** `serve.promote.feedback`: the delayed-label check of a new model version. */
export const ServePromoteFeedbackSchema = Type.Object(
  {
    last: Type.Integer({
      minimum: 1,
      default: 200,
      description: 'Score both versions on the last N labelled feedback records (POST /feedback).',
    }),
    tolerance: Type.Number({
      minimum: 0,
      maximum: 100,
      default: 2,
      description:
        "The new version's accuracy on those records must be at least the served version's minus this many points (0-100).",
    }),
    minRecords: Type.Integer({
      minimum: 1,
      default: 20,
      description: 'With fewer labelled records than this the check is skipped (passes, marked "skipped").',
    }),
  },
  strict,
);

/**
 * `serve.promote`: the gates a new model version must pass to replace the served one. Each check is
 * optional; with `promote` absent every version is served as soon as it is built.
 */
export const ServePromoteSchema = Type.Object(
  {
    maxForgetting: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 100,
        description:
          'Points of accuracy (0-100) the new version may lose, versus the served one, on the held-out slice of any earlier ' +
          'experience (experiences: the first `heldOut` samples of its test set; a stream: the first `heldOut` samples ' +
          'of each experience, taken before they are trained on; with a strategy that keeps a replay memory, also `heldOut` ' +
          'rows of the memory drawn with the seed at each publish, against the served version alone).',
      }),
    ),
    heldOut: Type.Integer({
      minimum: 1,
      default: 200,
      description: "Samples kept per experience (and drawn from a stream's replay memory) for the maxForgetting check.",
    }),
    feedback: Type.Optional(
      Type.Object(ServePromoteFeedbackSchema.properties, {
        ...strict,
        description:
          "Accuracy on the last labelled feedback records must not fall below the served version's − tolerance.",
      }),
    ),
    finite: Type.Boolean({
      default: true,
      description:
        "The new version's outputs on every gate sample (held-out, feedback, recent requests) must be finite numbers.",
    }),
  },
  strict,
);

/**
 * `serve`: the HTTP server of `engram run --serve` (predictions, feedback, metrics, events, dashboard).
 * Core only validates it; the CLI starts the server (the `--serve [HOST:]PORT` flag wins over `host` and `port`).
 */
export const ServeSchema = Type.Object(
  {
    host: Type.String({
      minLength: 1,
      default: '127.0.0.1',
      description: 'Interface to bind (default loopback only).',
    }),
    port: Type.Integer({
      minimum: 0,
      maximum: 65535,
      default: 8080,
      description: 'TCP port (0 = any free port, printed at start).',
    }),
    publishEvery: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          'Publish a new model version every N optimizer steps; default: at each checkpoint and experience end.',
      }),
    ),
    bodyLimit: Type.Integer({ minimum: 1024, default: 1048576, description: 'Larger request bodies get 413.' }),
    maxInstances: Type.Integer({
      minimum: 1,
      default: 1024,
      description: 'Most instances in one /predict request (400 beyond).',
    }),
    linger: Type.Boolean({
      default: true,
      description: 'Keep serving the last model version after training ends, until SIGINT/SIGTERM.',
    }),
    token: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Bearer token required on POST /predict, POST /feedback and every admin endpoint (401 without it); ' +
          'write "${ENGRAM_SERVE_TOKEN}" to read it from the environment. /healthz and /readyz stay open. ' +
          'Compared in constant time; never logged or stored (checkpoints and summary.json keep "[redacted]").',
      }),
    ),
    metricsToken: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Bearer token required on GET /metrics, GET /events and the dashboard (default: open); ' +
          '"${NAME}" reads it from the environment.',
      }),
    ),
    tls: Type.Optional(
      Type.Object(ServeTlsSchema.properties, {
        ...strict,
        description: 'Serve https with this key and certificate (PEM files); default plain http.',
      }),
    ),
    feedback: Type.Object(ServeFeedbackSchema.properties, {
      ...strict,
      default: {},
      description: 'The prediction store POST /feedback draws on.',
    }),
    promote: Type.Optional(
      Type.Object(ServePromoteSchema.properties, {
        ...strict,
        description:
          'Promotion gates: a new version replaces the served one only if these checks pass (else a version-rejected event).',
      }),
    ),
    shadow: Type.Boolean({
      default: false,
      description:
        'The newest unpromoted version also predicts every request; both are scored when the label arrives (POST /feedback).',
    }),
  },
  strict,
);

/** `serve.promote` after validation (defaults filled in). */
export type ServePromoteSettings = Static<typeof ServePromoteSchema>;

/** `serve` after validation (defaults filled in). */
export type ServeSettings = Static<typeof ServeSchema>;
