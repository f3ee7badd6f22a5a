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
  const valued = new Set(['--records', '--batch', '--features', '--rounds', '--redis', '--backend']);
  const values = new Map<string, string>();
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--json') json = true;
    else if (valued.has(a)) {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value`);
      values.set(a, v);
    } else throw new Error(`unknown argument ${a}`);
  }
  const int = (name: string, fallback: number): number => {
    const raw = values.get(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${raw}`);
    return n;
  };
  const url = values.get('--redis');
  return {
    records: int('--records', 100000),
    batchSize: int('--batch', 64),
    features: int('--features', 32),
    rounds: int('--rounds', 3),
    backend: values.get('--backend') ?? 'auto',
    json,
    ...(url !== undefined ? { url } : {}),
  };
}
