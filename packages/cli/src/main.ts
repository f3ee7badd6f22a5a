#!/usr/bin/env node
import { silenceCpuBanner, silenceOrthogonalNotice } from '@engram/core';
import { Command, Option } from 'commander';
import { VERSION } from './cli-context.js';
import { reportError } from './errors.js';
import { exitWhenDone } from './output/exit-when-done.js';
import { guardStdout } from './output/stdout-guard.js';
import { evalCommand } from './commands/eval.command.js';
import { exportCommand } from './commands/export.command.js';
import { pluginsCommand } from './commands/plugins.command.js';
import { runCommand } from './commands/run.command.js';
import type { ServeFlags } from './commands/serve.command.js';
import { schemaCommand } from './commands/schema.command.js';
import { validateCommand } from './commands/validate.command.js';
import { compareCommand, reportCommand } from './commands/report.command.js';
import type { SweepFlags } from './commands/sweep.command.js';
import type { WorkerFlags } from './commands/worker.command.js';

// sweep, worker and serve are imported when used: BullMQ and Fastify would add to every other command's start-up.
// A closed pipe (`engram plugins | head`) is not an error; a run still finishes its files (output/stdout-guard.ts).
guardStdout();
// tfjs' cpu backend would suggest installing tfjs-node on first use (export, eval); backend choice is ours to report.
silenceCpuBanner();
// GRU/LSTM of 26+ units: tfjs-layers' "Slowness may result" notice at every model build, not news to users.
silenceOrthogonalNotice();

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
const program = new Command('engram')
  .version(VERSION)
  .description('Continual learning pipelines from one JSON file.')
  .option('--verbose', 'print stack traces of runtime errors');
const pluginOption = (): Option =>
  new Option('--plugin <module>', 'load an extra plugin (repeatable)').argParser(collect);
const setOption = (): Option =>
  new Option(
    '--set <path=value>',
    'override a pipeline field before validation: path as /json/pointer or dotted.path, value as JSON or a bare string (repeatable)',
  ).argParser(collect);
const localPluginsOption = (): Option =>
  new Option(
    '--allow-local-plugins',
    'let the pipeline load plugin files from its own folder (runs their code; see README "Plugins and trust")',
  );

function action<A extends unknown[]>(fn: (...args: A) => Promise<number>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      process.exitCode = await fn(...args);
    } catch (e) {
      process.exitCode = reportError(e, program.opts<{ verbose?: boolean }>().verbose === true);
    }
    // The command owns nothing any more: a handle still open now is a leak, not a reason to hang.
    exitWhenDone();
  };
}

program
  .command('run <pipeline>')
  .description('train a pipeline; writes summary.json and metrics.jsonl to the output folder')
  .option('--out <dir>', 'output folder (default: the pipeline output.dir, else runs/<name>)')
  .addOption(
    new Option('--backend <name>', 'override the pipeline backend').choices(['auto', 'tensorflow', 'wasm', 'cpu']),
  )
  .option('--quiet', 'print nothing but errors')
  .option('--json', 'print every event as one JSON line')
  .option('--resume', 'continue from the newest valid checkpoint in the output folder')
  .option(
    '--from <run>',
    "start this new run from an earlier run's newest valid checkpoint (run folder or checkpoint folder): model, " +
      'optimizer, strategy state, metric history',
  )
  .option('--overwrite', 'start afresh in an output folder that holds checkpoints of an earlier run (deletes them)')
  .option(
    '--serve <[host:]port>',
    'serve the live model over HTTP while it trains: /predict, /feedback, /metrics, /events, dashboard at / (default host 127.0.0.1)',
  )
  .addOption(pluginOption())
  .addOption(setOption())
  .addOption(localPluginsOption())
  .action(action((file: string, flags: Parameters<typeof runCommand>[1]) => runCommand(file, flags)));

program
  .command('serve <dir>')
  .description(
    'serve the newest valid checkpoint of a run (or an exported model) read-only: /predict, /metrics, /healthz, /readyz',
  )
  .requiredOption('--port <port>', 'TCP port (0 = any free port)')
  .option('--host <host>', 'interface to bind', '127.0.0.1')
  .option('--follow', 'reload when a newer checkpoint appears in the run folder')
  .option('--poll-seconds <s>', 'with --follow: seconds between looks for a newer checkpoint', '2')
  .option(
    '--redis <url>',
    'with --follow: also reload when a checkpoint is announced on Redis (the redis-stream logger)',
  )
  .option('--models-channel <channel>', 'with --redis: the announcement channel, "<logger stream>:models"')
  .option('--redis-ca <file>', 'with a rediss:// URL: PEM file of the CA that signed the Redis server certificate')
  .option(
    '--token-env <name>',
    'require "Authorization: Bearer <token>" on /predict and every admin endpoint; the token is read from this environment variable',
  )
  .option('--metrics-token-env <name>', 'require a bearer token on /metrics, read from this environment variable')
  .option('--tls-key <file>', 'serve https: PEM private key (with --tls-cert)')
  .option('--tls-cert <file>', 'serve https: PEM certificate chain (with --tls-key)')
  .action(
    action(async (dir: string, flags: ServeFlags) =>
      (await import('./commands/serve.command.js')).serveCommand(dir, flags),
    ),
  );

program
  .command('export <dir>')
  .description("write the newest valid checkpoint's model (tfjs Layers or ONNX) and engram.json to a folder")
  .requiredOption('--to <path>', 'output folder (a model.json or .onnx path uses its folder)')
  .option('--format <format>', 'tfjs (model.json + weights.bin) or onnx (model.onnx, normalisation inside)', 'tfjs')
  .option('--channels-first', 'ONNX image models take [N, C, H, W] like PyTorch instead of [N, H, W, C]')
  .option('--softmax', 'append a softmax: the model outputs probabilities instead of logits')
  .option(
    '--test-data <pipeline>',
    "also write this pipeline's test sets to test.jsonl (raw inputs, as engram eval scores them)",
  )
  .addOption(pluginOption())
  .addOption(setOption())
  .action(action((dir: string, flags: Parameters<typeof exportCommand>[1]) => exportCommand(dir, flags)));

program
  .command('eval <pipeline>')
  .description("evaluate the newest valid checkpoint on the pipeline's test sets, without training")
  .requiredOption('--checkpoint <dir>', 'a run output folder, checkpoints folder or one checkpoint')
  .option('--json', 'print the results as JSON')
  .addOption(pluginOption())
  .addOption(setOption())
  .addOption(localPluginsOption())
  .action(action((file: string, flags: Parameters<typeof evalCommand>[1]) => evalCommand(file, flags)));

program
  .command('validate <pipelines...>')
  .description('check pipelines against the schema composed from their plugins, and the data files they name')
  .addOption(pluginOption())
  .addOption(setOption())
  .addOption(localPluginsOption())
  .option('--no-data', 'skip the checks of the files, folders and columns the data section names')
  .action(action((files: string[], flags: Parameters<typeof validateCommand>[1]) => validateCommand(files, flags)));

program
  .command('schema')
  .description('print or write the pipeline JSON Schema (or, with --sweep, the sweep file schema)')
  .option('--out <file>', 'write it to a file')
  .option('--sweep', 'the JSON Schema of *.sweep.json files instead')
  .addOption(pluginOption())
  .action(action((flags: Parameters<typeof schemaCommand>[0]) => schemaCommand(flags)));

program
  .command('plugins')
  .description('list every component kind per role with its options')
  .option('--json', 'as JSON, with each option schema')
  .addOption(pluginOption())
  .action(action((flags: { json?: boolean; plugin?: string[] }) => pluginsCommand(flags)));

program
  .command('report <dir>')
  .description('regenerate DIR/report.html from a run folder')
  .action(action((dir: string) => reportCommand(dir)));

program
  .command('compare <dirs...>')
  .description('compare runs: strategy, scenario, ACC, BWT, FWT, forgetting, time')
  .option('--html <file>', 'also write a comparison report')
  .action(action((dirs: string[], flags: { html?: string }) => compareCommand(dirs, flags)));

program
  .command('sweep <sweep>')
  .description(
    'run every combination of a sweep.json (grid / random over JSON pointers) and rank them; DIR/sweep.json and DIR/report.html',
  )
  .requiredOption('--out <dir>', 'output folder: one sub-folder per combination')
  .option('--redis <url>', 'enqueue the combinations as BullMQ jobs for `engram worker`s (default: run them here)')
  .option('--parallel <n>', 'without --redis: combinations run at once', '1')
  .option('--queue <name>', 'BullMQ queue name', 'engram-sweep')
  .option('--redis-wait <s>', 'with --redis: seconds to wait for Redis during an outage before giving up', '120')
  .option('--redis-ca <file>', 'with a rediss:// URL: PEM file of the CA that signed the Redis server certificate')
  .option('--quiet', 'print nothing but errors')
  .action(
    action(async (file: string, flags: SweepFlags) =>
      (await import('./commands/sweep.command.js')).sweepCommand(file, flags),
    ),
  );

program
  .command('worker')
  .description(
    "run sweep jobs from a Redis (BullMQ) queue until SIGINT/SIGTERM/SIGHUP; a killed worker's job resumes elsewhere from its checkpoint",
  )
  .requiredOption(
    '--redis <url>',
    'Redis URL, rediss:// for TLS, user:password@ for AUTH (${NAME} expands from the environment)',
  )
  .option('--redis-ca <file>', 'with a rediss:// URL: PEM file of the CA that signed the Redis server certificate')
  .option('--queue <name>', 'BullMQ queue name', 'engram-sweep')
  .option('--lock-seconds <s>', "job lock; a dead worker's job is taken over after about twice this", '30')
  .option(
    '--run-lock-seconds <s>',
    "a combination's run.lock without a heartbeat for this long is stale (a live holder is never run twice)",
    '60',
  )
  .action(action(async (flags: WorkerFlags) => (await import('./commands/worker.command.js')).workerCommand(flags)));

program
  .command('sweep-job <job>', { hidden: true })
  .description('internal: run one sweep combination from its job.json')
  .action(action(async (file: string) => (await import('./commands/worker.command.js')).sweepJobCommand(file)));

await program.parseAsync(process.argv);
