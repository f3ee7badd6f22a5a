import { QUIET_OTHERS_CORES } from './quietness.js';
import { parseRedisBenchOptions, REDIS_BENCH_USAGE, type RedisBenchOptions } from './redis-bench-options.js';
import { redisBench, type RedisBenchResult } from './redis.bench.js';

/**
 * `npm run bench:redis [-- --records N --batch B --features F --rounds R --redis URL --backend NAME --json]`:
 * records/s end to end from Redis vs from a local JSONL file on the same model (the ratio, goal ≥ 0.9),
 * and the redis-stream events logger's overhead on training throughput (goal ≤ 5 %). One discarded
 * warm-up round, then R rounds in rotating order; medians over the quiet rounds when there are any.
 * Starts its own redis-server unless --redis is given.
 */
function print(r: RedisBenchResult): void {
  const f = (v: number): string => v.toFixed(0).padStart(8);
  const p = (v: number): string => `${v.toFixed(1).padStart(5)} %`;
  const quiet =
    r.othersCores === null
      ? 'quietness unknown (no /proc)'
      : `others used ${r.othersCores.toFixed(2)} cores, load ${r.load1Start} → ${r.load1End}, ` +
        `${r.quietRounds}/${r.rounds.length} rounds quiet`;
  const over = `medians of ${r.roundsUsed} ${r.quietOnly ? 'quiet ' : ''}round(s)`;
  const lines = [
    `redis-stream vs jsonl-follow, ${r.records} records, batch ${r.batchSize}, backend ${r.backend}; ${quiet}`,
    `  warm-up (discarded)       jsonl ${f(r.warmup.jsonl)}   redis ${f(r.warmup.redis)}   jsonl+logger ${f(r.warmup.logged)} records/s`,
    ...r.rounds.map(
      (x) =>
        `  round ${String(x.round).padEnd(3)} ${x.order.join(',').padEnd(19)} jsonl ${f(x.rates.jsonl)}   redis ` +
        `${f(x.rates.redis)}   jsonl+logger ${f(x.rates.logged)}   ` +
        `ratio ${x.ratio.toFixed(3)}   overhead ${p(x.loggerOverheadPercent)}   others ` +
        `${x.othersCores?.toFixed(2) ?? '?'} cores${x.quiet ? '' : ' (busy)'}`,
    ),
    `  ${over}:`,
    `  jsonl-follow              ${f(r.jsonlRecordsPerSecond)} records/s`,
    `  redis-stream              ${f(r.redisRecordsPerSecond)} records/s   ratio ${r.ratio.toFixed(3)} (goal >= 0.9)`,
    `  jsonl + redis logger      ${f(r.withLoggerRecordsPerSecond)} records/s   logger overhead ` +
      `${r.loggerOverheadPercent.toFixed(1)} % (goal <= 5 %)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(o: RedisBenchOptions): Promise<void> {
  const result = await redisBench(o);
  if (result.othersCores === null)
    process.stderr.write('warning: no /proc on this system; cannot tell how quiet the machine was ("quiet": false)\n');
  else if (!result.quiet) {
    process.stderr.write(
      `warning: other processes used ${result.othersCores.toFixed(2)} cores on average during the bench (limit ${QUIET_OTHERS_CORES}); ` +
        `${result.quietRounds} of ${result.rounds.length} rounds were quiet. Figures from a busy machine are not ` +
        `comparable ("quiet": false).\n`,
    );
  }
  if (o.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else print(result);
}

const argv = process.argv.slice(2);
if (argv.includes('--help')) {
  process.stdout.write(`${REDIS_BENCH_USAGE}\n`);
} else {
  let options: RedisBenchOptions | undefined;
  try {
    options = parseRedisBenchOptions(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${REDIS_BENCH_USAGE}\n`);
    process.exitCode = 2;
  }
  if (options) {
    try {
      await main(options);
    } catch (e) {
      process.stderr.write(`bench:redis failed: ${(e as Error).message}\n`);
      process.exitCode = 1;
    }
  }
}
