import { CorruptCheckpointError } from '@engram/core';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CheckpointFollower } from '../serve/checkpoint-follower.js';
import { FOLLOW_FEEDBACK_CHANNEL, FollowGates, scoringChannel } from '../serve/follow-gates.js';
import { ModelAnnouncements } from '../serve/model-announcements.js';
import { ModelServer } from '../serve/model-server.js';
import { parseServeAddress } from '../serve/serve-address.js';
import { flagDoors, storedTokens, type ServeDoors } from '../serve/serve-doors.js';
import { flagRedisTarget } from '../sweep/redis-reach.js';
import type { ServedData } from '../serve/served-data.js';
import { isExportDir, loadCheckpointModel, loadExportModel, type StoredModel } from '../serve/stored-model.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Flags of `engram serve`. */
export interface ServeFlags {
  port: string;
  host?: string;
  follow?: boolean;
  /** Seconds between looks for a newer checkpoint with --follow. */
  pollSeconds?: string;
  /** With --follow: also reload when the trainer's `redis-stream` logger announces a checkpoint (Redis URL). */
  redis?: string;
  /** The announcement channel (`<logger stream>:models`). */
  modelsChannel?: string;
  /** PEM file of the CA that signed the Redis server's certificate. */
  redisCa?: string;
  /** Environment variable holding the bearer token of /predict and admin endpoints. */
  tokenEnv?: string;
  /** Environment variable holding the bearer token of /metrics, /events and the dashboard. */
  metricsTokenEnv?: string;
  /** https: PEM key and certificate files. */
  tlsKey?: string;
  tlsCert?: string;
}

/**
 * `engram serve <run-dir | checkpoint | export-dir> --port PORT [--follow]`: read-only serving of the
 * newest valid checkpoint (with its pipeline's preprocessing and fitted statistics) or of an exported
 * model — `/predict`, `/metrics`, `/healthz`, `/readyz` (`/feedback` only to score, when the pipeline has
 * `serve.promote.feedback`: nothing trains here). With `--follow`, a newer checkpoint in the run folder
 * replaces the served version once it verifies and passes the pipeline's `serve.promote` gates
 * ({@link FollowGates}), so replicas can follow one trainer. `--token-env NAME` locks /predict behind a bearer token read from
 * the environment variable NAME, `--metrics-token-env` /metrics (default: the tokens of the served run's
 * pipeline, read from the environment again); `--tls-key`/`--tls-cert` serve https.
 * Runs until SIGINT/SIGTERM/SIGHUP (exit 0).
 */
export async function serveCommand(dir: string, flags: ServeFlags): Promise<number> {
  const { host, port } = parseServeAddress(
    flags.host !== undefined
      ? `${flags.host.includes(':') ? `[${flags.host}]` : flags.host}:${flags.port}`
      : flags.port,
  );
  const warn = (m: string): void => void process.stderr.write(`warning: ${m}\n`);
  if (flags.redis !== undefined && (flags.modelsChannel === undefined || !flags.follow)) {
    process.stderr.write(
      'error: --redis follows announcements: give it with --follow and --models-channel <stream>:models (the ' +
        'redis-stream logger\'s stream + ":models")\n',
    );
    return 2;
  }
  let doors: ServeDoors;
  try {
    doors = flagDoors(flags);
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    return 2;
  }
  const exported = isExportDir(dir);
  let version = 0;
  const load = (): Promise<StoredModel> =>
    exported ? loadExportModel(dir, ++version) : loadCheckpointModel(dir, ++version, here, warn);
  let first: StoredModel;
  try {
    first = await load();
  } catch (e) {
    if (!(e instanceof CorruptCheckpointError) && !(e instanceof Error && /export|checkpoint/.test(e.message))) throw e;
    process.stderr.write(`error: ${e.message}\n`);
    return 2;
  }
  try {
    // A locked run stays locked when served from its checkpoints (flags win).
    doors = { ...storedTokens(first.serve, flags), ...doors };
  } catch (e) {
    first.model.dispose();
    process.stderr.write(`error: ${(e as Error).message}\n`);
    return 2;
  }
  let data: ServedData = first.data;
  // The checkpoint's serve.promote gates apply to the versions --follow finds: forgetting on the test
  // sets or the checkpoints' replay memory, feedback on the labels sent to this server's own /feedback
  // (scored only: nothing trains here), finite outputs.
  const promote = first.serve?.promote;
  const feedback = promote?.feedback
    ? {
        feedback: {
          channel: FOLLOW_FEEDBACK_CHANNEL,
          ttlSeconds: first.serve?.feedback.ttlSeconds ?? 600,
          maxBytes: first.serve?.feedback.maxBytes ?? 67108864,
        },
        channels: () => scoringChannel(data),
      }
    : {};
  const server = new ModelServer({
    host,
    port,
    bodyLimit: 1048576,
    maxInstances: 1024,
    data: () => data,
    doors,
    ...(promote ? { promote } : {}),
    ...feedback,
    shadow: first.serve?.shadow === true,
  });
  const gates = promote && server.samples && flags.follow ? new FollowGates(server.samples, promote, warn) : undefined;
  await gates?.start(first);
  server.board.replace(first.model);
  const address = await server.listen().catch(async (e: unknown) => {
    await server.close();
    process.stderr.write(`error: ${(e as Error).message}\n`);
    return undefined;
  });
  if (!address) return 1;
  // Reloads run one after another; a checkpoint older than the served one is ignored.
  let chain = Promise.resolve();
  const reload = (path: string): void => {
    chain = chain.then(async () => {
      try {
        const next = await (path === dir ? load() : loadCheckpointModel(path, ++version, here, warn));
        if (next.model.info.step <= (server.board.current?.info.step ?? -1)) {
          next.model.dispose();
          return;
        }
        data = next.data;
        gates?.checkpoint(next);
        if (!server.board.offer(next.model)) {
          const r = server.board.history.get(next.model.info.version);
          warn(
            `not serving ${next.from} (model version ${next.model.info.version}): ${r?.decision ?? 'rejected'}; still serving version ${server.board.current?.info.version ?? '?'}`,
          );
          return;
        }
        process.stderr.write(
          `now serving ${next.from} (model version ${next.model.info.version}, step ${next.model.info.step})\n`,
        );
      } catch (e) {
        warn(
          `cannot load the newer checkpoint: ${(e as Error).message}; still serving version ${server.board.current?.info.version ?? '?'}`,
        );
      }
    });
  };
  let follower: CheckpointFollower | undefined;
  let announcements: ModelAnnouncements | undefined;
  if (flags.follow && !exported) {
    follower = new CheckpointFollower(dir, Math.max(0.1, Number(flags.pollSeconds ?? '2')) * 1000, async () => {
      reload(dir);
      await chain;
    });
    await follower.start(first.from);
    if (flags.redis !== undefined) {
      announcements = new ModelAnnouncements(
        flagRedisTarget(flags.redis, flags.redisCa),
        flags.modelsChannel ?? '',
        (a) => {
          if (a.step > (server.board.current?.info.step ?? -1)) reload(a.checkpoint);
        },
        warn,
      );
      await announcements.start();
    }
  }
  // Said once everything listens and follows (tests and scripts wait for this line).
  process.stderr.write(
    `serving ${first.from} (model version ${first.model.info.version}, step ${first.model.info.step}) on ` +
      `${doors.tls ? 'https' : 'http'}://${address.address}:${address.port}/\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
    process.once('SIGHUP', () => resolve());
  });
  follower?.stop();
  announcements?.stop();
  await chain;
  await server.close();
  return 0;
}
