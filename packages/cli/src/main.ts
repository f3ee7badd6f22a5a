#!/usr/bin/env node
import { Command, Option } from 'commander';
import { VERSION } from './cli-context.js';
import { reportError } from './errors.js';
import { evalCommand } from './commands/eval.command.js';
import { exportCommand } from './commands/export.command.js';
import { pluginsCommand } from './commands/plugins.command.js';
import { runCommand } from './commands/run.command.js';
import { schemaCommand } from './commands/schema.command.js';
import { validateCommand } from './commands/validate.command.js';
import { compareCommand, reportCommand } from './commands/report.command.js';

// A closed pipe (`engram plugins | head`) is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
const program = new Command('engram').version(VERSION).description('Continual learning pipelines from one JSON file.').option('--verbose', 'print stack traces of runtime errors');
const pluginOption = (): Option => new Option('--plugin <module>', 'load an extra plugin (repeatable)').argParser(collect);

function action<A extends unknown[]>(fn: (...args: A) => Promise<number>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      process.exitCode = await fn(...args);
    } catch (e) {
      process.exitCode = reportError(e, program.opts<{ verbose?: boolean }>().verbose === true);
    }
  };
}

program
  .command('run <pipeline>')
  .description('train a pipeline; writes summary.json and metrics.jsonl to the output folder')
  .option('--out <dir>', 'output folder (default: the pipeline output.dir, else runs/<name>)')
  .addOption(new Option('--backend <name>', 'override the pipeline backend').choices(['auto', 'tensorflow', 'wasm', 'cpu']))
  .option('--quiet', 'print nothing but errors')
  .option('--json', 'print every event as one JSON line')
  .option('--resume', 'continue from the newest valid checkpoint in the output folder')
  .addOption(pluginOption())
  .action(action((file: string, flags: Parameters<typeof runCommand>[1]) => runCommand(file, flags)));

program
  .command('export <dir>')
  .description('write the newest valid checkpoint\'s model (tfjs Layers format) and engram.json to a folder')
  .requiredOption('--to <path>', 'output folder (a model.json path uses its folder)')
  .option('--softmax', 'append a softmax: the model outputs probabilities instead of logits')
  .option('--test-data <pipeline>', 'also write this pipeline\'s test sets to test.jsonl (raw inputs, as engram eval scores them)')
  .addOption(pluginOption())
  .action(action((dir: string, flags: Parameters<typeof exportCommand>[1]) => exportCommand(dir, flags)));

program
  .command('eval <pipeline>')
  .description('evaluate the newest valid checkpoint on the pipeline\'s test sets, without training')
  .requiredOption('--checkpoint <dir>', 'a run output folder, checkpoints folder or one checkpoint')
  .option('--json', 'print the results as JSON')
  .addOption(pluginOption())
  .action(action((file: string, flags: { checkpoint: string; json?: boolean; plugin?: string[] }) => evalCommand(file, flags)));

program
  .command('validate <pipelines...>')
  .description('check pipelines against the schema composed from their plugins')
  .addOption(pluginOption())
  .action(action((files: string[], flags: { plugin?: string[] }) => validateCommand(files, flags)));

program
  .command('schema')
  .description('print or write the pipeline JSON Schema')
  .option('--out <file>', 'write it to a file')
  .addOption(pluginOption())
  .action(action((flags: { out?: string; plugin?: string[] }) => schemaCommand(flags)));

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

await program.parseAsync(process.argv);
