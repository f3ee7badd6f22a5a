import { redisBench } from './redis.bench.js';

/**
 * `npm run bench:redis [-- --records N --batch B --features F --redis URL --backend NAME --json]`:
 * records/s end to end from Redis vs from a local JSONL file on the same model (the ratio, goal ≥ 0.9),
 * and the redis-stream events logger's overhead on training throughput (goal ≤ 5 %). Starts its own
 * redis-server unless --redis is given.
 */
const argv = process.argv.slice(2);
const value = (name: string, fallback: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 ? (argv[i + 1] ?? fallback) : fallback;
};
const url = argv.includes('--redis') ? value('--redis', '') : undefined;
const result = await redisBench({
  records: Number(value('--records', '20000')),
  batchSize: Number(value('--batch', '64')),
  features: Number(value('--features', '32')),
  backend: value('--backend', 'auto'),
  ...(url ? { url } : {}),
});
if (argv.includes('--json')) process.stdout.write(`${JSON.stringify(result)}\n`);
else {
  const f = (v: number): string => v.toFixed(0).padStart(8);
  process.stdout.write(
    `redis-stream vs jsonl-follow, ${result.records} records, backend ${result.backend}\n` +
    `  jsonl-follow              ${f(result.jsonlRecordsPerSecond)} records/s\n` +
    `  redis-stream              ${f(result.redisRecordsPerSecond)} records/s   ratio ${result.ratio.toFixed(3)} (goal >= 0.9)\n` +
    `  jsonl + redis logger      ${f(result.withLoggerRecordsPerSecond)} records/s   logger overhead ${result.loggerOverheadPercent.toFixed(1)} % (goal <= 5 %)\n`,
  );
}
