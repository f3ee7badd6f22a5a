import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EngramEvent } from '../events/engram-event.js';
import { RUN_FILES } from '../metrics/run-recorder.js';
import type { RunSummary } from '../metrics/run-summary.js';
import type { ResumePoint } from './resume.js';

/** Bytes read from the end of `metrics.jsonl` to find its last event (a `run-end` line is far shorter). */
const TAIL_BYTES = 64 * 1024;

/** The last event of a metrics.jsonl, or undefined when it cannot be read or parsed. */
async function lastEvent(path: string): Promise<EngramEvent | undefined> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (!handle) return undefined;
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, TAIL_BYTES);
    const tail = new Uint8Array(length);
    await handle.read(tail, 0, length, size - length);
    const lines = new TextDecoder().decode(tail).split('\n');
    const last = lines.filter((l) => l.trim() !== '').pop();
    return last === undefined ? undefined : (JSON.parse(last) as EngramEvent);
  } catch {
    return undefined;
  } finally {
    await handle.close();
  }
}

/**
 * A `--resume` of a run that had already finished after its newest checkpoint (`dir`, `step`): nothing
 * runs and nothing is written; `summary` is the finished run's summary.json. Chosen by `chooseStart`
 * instead of a start.
 */
export class FinishedRun {
  constructor(
    readonly summary: RunSummary,
    readonly dir: string,
    readonly step: number,
  ) {}
}

/**
 * [resume] The summary of a run that already finished, or undefined when there is something to resume.
 *
 * A run has finished when, after the resume point's checkpoint was written, the same run went on to
 * its end: its `metrics.jsonl` (whose first bytes that checkpoint verified) ends with a `run-end` of
 * status `completed`, and its `summary.json` says `completed` too. A stopped, failed or killed run
 * has neither and is resumed. So is a finished run whose newest checkpoint(s) were corrupt: it resumes
 * from the older one and writes them again. Called once the resume point is verified, before anything
 * is built.
 */
export async function finishedRun(point: ResumePoint, outDir: string): Promise<RunSummary | undefined> {
  if (point.skippedNewer === true) return undefined;
  const last = await lastEvent(join(outDir, RUN_FILES.metrics));
  const mark = point.events[point.events.length - 1]?.seq ?? -1;
  if (last?.type !== 'run-end' || last.status !== 'completed' || last.seq < mark) return undefined;
  try {
    const summary = JSON.parse(await readFile(join(outDir, RUN_FILES.summary), 'utf8')) as RunSummary | null;
    return summary?.status === 'completed' ? summary : undefined;
  } catch {
    return undefined;
  }
}
