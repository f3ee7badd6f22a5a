import { parseBenchArgs } from './bench-args.js';

/** What `npm run bench:redis -- …` asked for. */
export interface RedisBenchOptions {
  /** Records per run. */
  readonly records: number;
  readonly batchSize: number;
  /** Features per record. */
  readonly features: number;
  /** Measured rounds after the discarded warm-up round; each runs every case once. */
  readonly rounds: number;
  /** An existing server (default: a throw-away redis-server on a free port). */
  readonly url?: string;
  readonly backend: string;
  readonly json: boolean;
}

/** Usage text for `--help` and argument errors. */
export const REDIS_BENCH_USAGE = `usage: npm run bench:redis -- [--records N] [--batch B] [--features F] [--rounds R] [--redis URL] [--backend NAME] [--json]
  --records N   records per run (default 100000: shorter runs keep speeding up from round to round)
  --batch B     training batch size (default 64)
  --features F  features per record (default 32)
  --rounds R    measured rounds after one discarded warm-up round (default 3); the cases' order rotates every round
  --redis URL   an existing server (default: a throw-away redis-server on a free loopback port)
  --backend     tfjs backend (default auto)
  --json        one JSON object on stdout instead of the table`;

/** Parses the Redis bench's arguments; throws a one-line error for a bad one. */
export function parseRedisBenchOptions(argv: readonly string[]): RedisBenchOptions {
  const args = parseBenchArgs(argv, {
    flags: ['--json'],
    valued: ['--records', '--batch', '--features', '--rounds', '--redis', '--backend'],
  });
  const url = args.value('--redis');
  return {
    records: args.positiveInt('--records', 100000),
    batchSize: args.positiveInt('--batch', 64),
    features: args.positiveInt('--features', 32),
    rounds: args.positiveInt('--rounds', 3),
    backend: args.value('--backend') ?? 'auto',
    json: args.flags.has('--json'),
    ...(url !== undefined ? { url } : {}),
  };
}
