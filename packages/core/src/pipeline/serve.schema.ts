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
  },
  strict,
);

/** `serve` after validation (defaults filled in). */
export type ServeSettings = Static<typeof ServeSchema>;
