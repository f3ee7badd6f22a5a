import { CorruptCheckpointError, evaluateCheckpoint, type CheckpointEvaluation } from '@engram/core';
import { loadPipelineFile } from '../cli-context.js';

/** The mean of `values`, or null for none. */
function meanOf(values: readonly number[]): number | null {
  return values.length > 0 ? values.reduce((s, v) => s + v, 0) / values.length : null;
}

/**
 * A regression checkpoint's evaluation: MAE and RMSE per experience in the targets' units (lower is
 * better), the loss, and the mean MAE/RMSE; as JSON with `averageMae`/`averageRmse` (no accuracy).
 */
function printErrors(r: CheckpointEvaluation, json: boolean): void {
  const averageMae = meanOf(r.results.map((x) => x.mae ?? NaN));
  const averageRmse = meanOf(r.results.map((x) => x.rmse ?? NaN));
  if (json) {
    const results = r.results.map(({ experience, mae, rmse, loss, count }) => ({ experience, mae, rmse, loss, count }));
    process.stdout.write(`${JSON.stringify({ checkpoint: r.dir, step: r.step, averageMae, averageRmse, results })}\n`);
    return;
  }
  process.stdout.write(`checkpoint ${r.dir} (step ${r.step})\n`);
  for (const x of r.results)
    process.stdout.write(
      `  experience ${x.experience}: MAE ${(x.mae ?? NaN).toFixed(4)}  RMSE ${(x.rmse ?? NaN).toFixed(4)}  loss ${x.loss.toFixed(4)}  (${x.count} samples)\n`,
    );
  process.stdout.write(
    `  average MAE ${(averageMae ?? NaN).toFixed(4)}  RMSE ${(averageRmse ?? NaN).toFixed(4)} (target units, lower is better)\n`,
  );
}

/**
 * `engram eval <pipeline.json> --checkpoint <dir>`: evaluates the newest valid checkpoint under
 * `dir` on the pipeline's test sets without training; prints one accuracy (a regression run: MAE and
 * RMSE) per experience and the average (or, with `--json`, the results as JSON). Exit 2 when there is no valid checkpoint.
 */
export async function evalCommand(
  file: string,
  flags: { checkpoint: string; json?: boolean; plugin?: string[]; allowLocalPlugins?: boolean; set?: string[] },
): Promise<number> {
  const loaded = await loadPipelineFile(file, flags.plugin ?? [], flags.allowLocalPlugins === true, flags.set ?? []);
  try {
    const r = await evaluateCheckpoint(loaded, flags.checkpoint, (m) => process.stderr.write(`warning: ${m}\n`));
    if (r.results.some((x) => x.mae !== undefined)) {
      printErrors(r, flags.json === true);
      return 0;
    }
    const mean = r.results.length ? r.results.reduce((s, x) => s + x.accuracy, 0) / r.results.length : 0;
    if (flags.json) {
      process.stdout.write(
        `${JSON.stringify({ checkpoint: r.dir, step: r.step, averageAccuracy: mean, results: r.results.map(({ experience, accuracy, loss, count }) => ({ experience, accuracy, loss, count })) })}\n`,
      );
      return 0;
    }
    process.stdout.write(`checkpoint ${r.dir} (step ${r.step})\n`);
    for (const x of r.results)
      process.stdout.write(
        `  experience ${x.experience}: accuracy ${(x.accuracy * 100).toFixed(1)}%  loss ${x.loss.toFixed(4)}  (${x.count} samples)\n`,
      );
    process.stdout.write(`  average accuracy ${(mean * 100).toFixed(1)}%\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof CorruptCheckpointError)) throw e;
    process.stderr.write(`error: ${e.message}\n`);
    return 2;
  }
}
