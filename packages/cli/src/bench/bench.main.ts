import { selectBackend } from '@engram/core';
import { BENCH_USAGE, parseBenchOptions, type BenchOptions } from './bench-options.js';
import { backboneSection } from './backbone.section.js';
import { bigSection } from './big.section.js';
import { checkpointBench } from './checkpoint.bench.js';
import { imagesSection } from './images.section.js';
import { MODEL_IO_FULL, MODEL_IO_QUICK, modelIoSection } from './model-io.section.js';
import { onlineSection } from './online.section.js';
import { probeAnchors, type PytorchAnchor } from './pytorch.bench.js';
import { QUIET_OTHERS_CORES, quietnessBetween, readCpuSnapshot } from './quietness.js';
import type { RoundLog } from './round-log.js';
import { throughputSection, type BenchRow, type JsonObject } from './throughput.section.js';

/**
 * `npm run bench -- [--json] [--pytorch SCRIPT] [--python PATH]... [--cnn] [--ewc] [--online] [--big]
 * [--backbone] [--io] [--repeats N] [--threads N] [--quick]`: training samples/s of the benchmark models
 * through the engine, a bare tfjs loop and PyTorch anchors; online step latency; bigger models; a
 * checkpoint; with `--io` ONNX export/import of an 11M-parameter ResNet and a ResNet checkpoint.
 * Every section runs in interleaved rounds (the order reverses every round) and each round records how
 * much CPU other processes took meanwhile; summaries are medians over the quiet rounds when there are
 * any, and the JSON says `"quiet": false` when, over the whole run, others took more than 10 % of a core.
 */
async function main(o: BenchOptions): Promise<void> {
  // (sections: throughput, online, big, backbone — reduced ResNet-18 and GRU —, images — image-folder decode rate and CNN data wait —, checkpoint, io — ONNX export/import and ResNet checkpoint)
  const anchors: PytorchAnchor[] = o.pythons.length > 0 ? probeAnchors(o.pythons) : [];
  const backend = await selectBackend('auto');
  const start = readCpuSnapshot();
  const json: JsonObject = {
    quiet: false,
    backend: backend.description,
    batch: 128,
    repeats: o.repeats,
    pytorchThreads: o.threads,
  };
  if (o.quick) json['quick'] = true;
  json['pytorch'] = Object.fromEntries(anchors.map((a) => [a.key, { python: a.python, torch: a.torch }]));
  const rows: BenchRow[] = [];
  const logs: RoundLog[] = [];
  await throughputSection(o, anchors, json, rows, logs);
  if (o.online) await onlineSection(o, anchors, json, rows, logs);
  if (o.big) await bigSection(o, anchors, json, rows, logs);
  if (o.backbone) await backboneSection(o, anchors, json, rows, logs);
  await imagesSection(o, json, rows, logs);
  const ckpt = await checkpointBench(o.quick ? { samples: 128 } : {});
  json['checkpointParameters'] = ckpt.parameters;
  json['checkpointBytes'] = ckpt.bytes;
  json['checkpointWriteSeconds'] = ckpt.writeSeconds;
  json['checkpointReadSeconds'] = ckpt.readSeconds;
  if (o.io) await modelIoSection(o.quick ? MODEL_IO_QUICK : MODEL_IO_FULL, json, rows, logs);

  const end = readCpuSnapshot();
  const whole = start && end ? quietnessBetween(start, end) : undefined;
  const rounds = logs.flatMap((l) => l.quietness);
  json['quiet'] = whole?.quiet ?? false;
  json['othersCores'] = whole ? Math.round(whole.othersCores * 1000) / 1000 : null;
  json['load1Start'] = whole?.load1Start ?? null;
  json['load1End'] = whole?.load1End ?? null;
  json['quietRounds'] = rounds.filter((r) => r.quiet).length;
  json['rounds'] = rounds.length;
  json['quietness'] = rounds.map((r) => ({ ...r }));
  if (!whole)
    process.stderr.write('warning: no /proc on this system; cannot tell how quiet the machine was ("quiet": false)\n');
  else if (!whole.quiet) {
    process.stderr.write(
      `warning: other processes used ${whole.othersCores.toFixed(2)} cores on average during the bench (limit ${QUIET_OTHERS_CORES}); ` +
        `${json['quietRounds']} of ${rounds.length} rounds were quiet; load average ${whole.load1Start} → ${whole.load1End}. ` +
        'Figures from a busy machine are not comparable ("quiet": false).\n',
    );
  }

  if (o.json) {
    process.stdout.write(`${JSON.stringify(json)}\n`);
    return;
  }
  const quietNote = whole
    ? `others used ${whole.othersCores.toFixed(2)} cores, load ${whole.load1Start} → ${whole.load1End}, ` +
      `${json['quietRounds']}/${rounds.length} rounds quiet`
    : 'quietness unknown';
  process.stdout.write(
    `backend: ${backend.description}, batch 128, Adam, medians of ${o.repeats} interleaved rounds (quiet rounds only ` +
      `when any); ${quietNote}\n`,
  );
  for (const a of anchors) process.stdout.write(`  pytorch anchor ${a.key}: torch ${a.torch} (${a.python})\n`);
  for (const r of rows)
    process.stdout.write(`  ${r.name.padEnd(34)} ${r.value.toFixed(r.unit === 'ms' ? 3 : 0).padStart(10)} ${r.unit}\n`);
  for (const [k, v] of Object.entries(json))
    if (/Over|Vs/.test(k) && typeof v === 'number')
      process.stdout.write(`  ${k.padEnd(34)} ${v.toFixed(3).padStart(10)}\n`);
  const online = json['online'] as Record<string, Record<string, number>> | undefined;
  for (const [k, v] of Object.entries(online ?? {})) {
    process.stdout.write(
      `  online ${k}: p50 ${v['p50Ms']?.toFixed(3)} ms, p99 ${v['p99Ms']?.toFixed(3)} ms, vs PyTorch ` +
        `${v['vsPytorch']?.toFixed(3) ?? '-'}, engine overhead ${v['overheadFraction']?.toFixed(3)}\n`,
    );
  }
  if (json['big']) process.stdout.write(`  big: ${JSON.stringify(json['big'])}\n`);
  process.stdout.write(
    `checkpoint of ${ckpt.parameters.toLocaleString('en')} parameters + Adam state + 1,000-sample replay buffer: ` +
      `${(ckpt.bytes / 1e6).toFixed(1)} MB, write ${ckpt.writeSeconds.toFixed(3)} s, verified read ${ckpt.readSeconds.toFixed(3)} s\n`,
  );
}

const argv = process.argv.slice(2);
if (argv.includes('--help')) {
  process.stdout.write(`${BENCH_USAGE}\n`);
} else {
  let options: BenchOptions | undefined;
  try {
    options = parseBenchOptions(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${BENCH_USAGE}\n`);
    process.exitCode = 2;
  }
  if (options) {
    try {
      await main(options);
    } catch (e) {
      process.stderr.write(`bench failed: ${(e as Error).message}\n`);
      process.exitCode = 1;
    }
  }
}
