import { renderComparison, renderReport } from '../report/index.js';

/** `engram report DIR`: (re)writes DIR/report.html from DIR/metrics.jsonl and DIR/summary.json. */
export async function reportCommand(dir: string): Promise<number> {
  const path = await renderReport(dir);
  process.stdout.write(`${path}\n`);
  return 0;
}

/** `engram compare DIR… [--html FILE]`: a table of the runs' figures, optionally an HTML comparison. */
export async function compareCommand(dirs: string[], flags: { html?: string }): Promise<number> {
  process.stdout.write(`${await renderComparison(dirs, flags.html)}\n`);
  return 0;
}
