import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { freePort, startRedis } from '@engram/datasets/testing';
import { parseBenchArgs } from './bench-args.js';
import { growthPerProcess, type Minute } from './soak-report.js';
import { SoakTraffic } from './soak-traffic.js';

/**
 * `npm run soak -- --minutes M [--rate R] [--delay-ms D] [--kill-at F] [--out DIR]`: a long run of
 * `engram run --serve` on a `redis-stream` source (its own redis-server on a free loopback port) under
 * `R` predictions/s (default 200, one instance each), every answered instance labelled into the stream
 * `D` ms later (default 1000: delayed labels), for `M` minutes; the run is SIGKILLed once at `F` of the
 * time (default 0.5) and restarted with `--resume`. Each minute it records the run process's RSS,
 * live tensors (`engram_tensors` of /metrics: training and serving threads), p50/p99 latency, requests,
 * errors and records produced. At the end it waits for training to catch up, stops the run (SIGTERM:
 * final checkpoint, acknowledgements) and checks records produced = trained (exactly once) and
 * pending = 0. Writes `<out>/soak-report.json`; exit 1 when the end checks fail.
 */
const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'main.js');
const USAGE = 'usage: npm run soak -- --minutes M [--rate R] [--delay-ms D] [--kill-at F] [--out DIR]\n';
const STREAM = 'soak';

function rssMb(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 102.4) / 10 : NaN;
  } catch {
    return NaN;
  }
}

interface Scrape {
  training?: number;
  serving?: number;
  heapMb: { training?: number; serving?: number };
  trained: number;
}

async function metrics(port: number): Promise<Scrape> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const read = (re: RegExp): number | undefined => {
      const m = re.exec(text);
      return m ? Number(m[1]) : undefined;
    };
    const training = read(/^engram_tensors\{thread="training"\} (\d+)$/m);
    const serving = read(/^engram_tensors\{thread="serving"\} (\d+)$/m);
    const mb = (thread: string): number | undefined => {
      const bytes = read(new RegExp(`^engram_heap_used_bytes\\{thread="${thread}"\\} (\\d+)$`, 'm'));
      return bytes === undefined ? undefined : Math.round(bytes / 104857.6) / 10;
    };
    const heapTraining = mb('training');
    const heapServing = mb('serving');
    return {
      ...(training !== undefined ? { training } : {}),
      ...(serving !== undefined ? { serving } : {}),
      heapMb: {
        ...(heapTraining !== undefined ? { training: heapTraining } : {}),
        ...(heapServing !== undefined ? { serving: heapServing } : {}),
      },
      trained: read(/^engram_samples_trained_total (\d+)$/m) ?? -1,
    };
  } catch {
    return { heapMb: {}, trained: -1 };
  }
}

async function ready(port: number, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`engram run exited with ${child.exitCode} before serving`);
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  let a;
  try {
    a = parseBenchArgs(argv, { flags: [], valued: ['--minutes', '--rate', '--delay-ms', '--kill-at', '--out'] });
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const minutes = a.positiveInt('--minutes', 30);
  const rate = a.positiveNumber('--rate', 200);
  const delayMs = a.positiveNumber('--delay-ms', 1000);
  const killAt = Math.min(0.95, a.positiveNumber('--kill-at', 0.5));
  const out = resolve(a.value('--out') ?? mkdtempSync(join(tmpdir(), 'engram-soak-')));
  mkdirSync(out, { recursive: true });
  const redisServer = await startRedis();
  const redis = new Redis(redisServer.url);
  const port = await freePort();
  const file = join(out, 'soak.pipeline.json');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'soak',
      seed: 1,
      backend: 'cpu',
      plugins: ['@engram/datasets', '@engram/strategies'],
      data: {
        kind: 'redis-stream',
        url: redisServer.url,
        stream: STREAM,
        start: '0',
        blockMs: 200,
        inputShape: [4],
        numClasses: 3,
      },
      model: { layers: [{ type: 'dense', units: 16, activation: 'relu' }] },
      optimizer: { type: 'adam', learningRate: 0.01 },
      strategy: { kind: 'naive' },
      training: { batchSize: 20, logEvery: 50 },
      checkpoint: { everySeconds: 10, keep: 3 },
      // The labels go through Redis, so no stored prediction is ever taken: a 60 s TTL keeps the
      // prediction store at its steady size (12,000 entries at 200/s) from the second minute on, where
      // the default 600 s would fill it for ten minutes and read as growth.
      serve: { publishEvery: 100, linger: false, feedback: { ttlSeconds: 60 } },
    }),
  );
  const runDir = join(out, 'run');
  let log = '';
  const start = (resume: boolean): ChildProcess => {
    const child = spawn(
      process.execPath,
      [
        MAIN,
        'run',
        file,
        '--out',
        runDir,
        '--serve',
        `127.0.0.1:${port}`,
        ...(resume ? ['--resume'] : ['--overwrite']),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-8000)));
    return child;
  };
  let child = start(false);
  const traffic = new SoakTraffic(() => port, redis, STREAM, rate, delayMs, 7);
  const rows: Minute[] = [];
  const kills: Array<{ atSecond: number; resumedAfterSeconds: number }> = [];
  let ok = false;
  try {
    await ready(port, child);
    const t0 = Date.now();
    traffic.start();
    const killTime = t0 + minutes * 60_000 * killAt;
    let killed = false;
    for (let m = 1; m <= minutes; m++) {
      const end = t0 + m * 60_000;
      while (Date.now() < end) {
        if (!killed && Date.now() >= killTime) {
          killed = true;
          const at = (Date.now() - t0) / 1000;
          child.kill('SIGKILL');
          await new Promise((r) => child.once('exit', r));
          const t = Date.now();
          child = start(true);
          await ready(port, child);
          kills.push({ atSecond: Math.round(at), resumedAfterSeconds: (Date.now() - t) / 1000 });
        }
        await new Promise((r) => setTimeout(r, Math.min(200, Math.max(1, end - Date.now()))));
      }
      const seen = await metrics(port);
      const row: Minute = {
        minute: m,
        ...traffic.minute(),
        rssMb: rssMb(child.pid),
        tensors: {
          ...(seen.training !== undefined ? { training: seen.training } : {}),
          ...(seen.serving !== undefined ? { serving: seen.serving } : {}),
        },
        heapMb: seen.heapMb,
        trained: seen.trained,
      };
      rows.push(row);
      process.stdout.write(
        `minute ${m}: ${row.requests} requests (${row.errors} errors), p50 ${row.p50Ms.toFixed(2)} ms, p99 ` +
          `${row.p99Ms.toFixed(2)} ms, RSS ${row.rssMb} MB, tensors training ${row.tensors.training ?? '?'} serving ` +
          `${row.tensors.serving ?? '?'}, heap MB training ${row.heapMb.training ?? '?'} serving ` +
          `${row.heapMb.serving ?? '?'}, produced ${row.produced}, trained ${row.trained}\n`,
      );
    }
    await traffic.stop();
    const produced = traffic.produced;
    // Training catches up with the last labels, then the run stops cleanly (final checkpoint and acks).
    let trained = -1;
    for (let i = 0; i < 600 && trained < produced; i++) {
      trained = (await metrics(port)).trained;
      if (trained < produced) await new Promise((r) => setTimeout(r, 200));
    }
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) =>
      child.exitCode !== null ? r(child.exitCode) : child.once('exit', r),
    );
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as { trainSamples: number };
    const pending = ((await redis.xpending(STREAM, 'engram')) as [number])[0];
    const first = rows.find((r) => r.minute === Math.min(2, minutes)) ?? rows[0];
    const last = rows[rows.length - 1];
    ok = summary.trainSamples === produced && pending === 0;
    const report = {
      minutes,
      rate,
      delayMs,
      kills,
      perMinute: rows,
      end: {
        produced,
        trained: summary.trainSamples,
        exactlyOnce: summary.trainSamples === produced,
        pending,
        runExit: code,
        rssGrowthAfterMinute2: first && last ? (last.rssMb - first.rssMb) / first.rssMb : null,
        rssGrowthPerProcess: growthPerProcess(
          rows,
          kills.map((k) => Math.floor(k.atSecond / 60) + 1),
        ),
        worstP99Ms: Math.max(...rows.map((r) => (Number.isNaN(r.p99Ms) ? 0 : r.p99Ms))),
      },
    };
    writeFileSync(join(out, 'soak-report.json'), `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(
      `produced ${produced}, trained ${summary.trainSamples} (${report.end.exactlyOnce ? 'exactly once' : 'MISMATCH'}), ` +
        `pending ${pending}; report: ${join(out, 'soak-report.json')}\n`,
    );
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n${log.split('\n').slice(-10).join('\n')}\n`);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    redis.disconnect();
    await redisServer.dispose();
  }
  return ok ? 0 : 1;
}

process.exitCode = await main();
