import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { EngramEvent } from '../events/engram-event.js';
import { CorruptCheckpointError } from './checkpoint.store.js';

/**
 * How much of `metrics.jsonl` a checkpoint belongs to: its length in bytes, the `seq` of its last event
 * and (checkpoints written since this field exists) the sha256 of those bytes.
 */
export interface HistoryMark {
  readonly bytes: number;
  readonly seq: number;
  readonly sha256?: string;
}

/** sha256 (hex) of a history prefix, as stored in a {@link HistoryMark}. */
export function historyHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Reads the metric history a checkpoint belongs to — the first `mark.bytes` of `metricsPath` — and
 * checks it: long enough, the same bytes (sha256, when the mark has one: a changed digit is caught),
 * one JSON event per line, the last with `mark.seq`. Any failure is a {@link CorruptCheckpointError}
 * naming the file (and line), so resume skips to an older checkpoint, whose shorter history may be
 * intact (metrics.jsonl truncated between two checkpoints' marks).
 */
export async function readHistory(
  metricsPath: string,
  mark: HistoryMark | undefined,
  dir: string,
): Promise<EngramEvent[]> {
  if (!mark) return [];
  const bad = (why: string): CorruptCheckpointError =>
    new CorruptCheckpointError(`${dir}: its metric history ${metricsPath} ${why}`);
  const handle = await open(metricsPath, 'r').catch(() => undefined);
  if (!handle) throw bad(`is missing (the checkpoint needs its first ${mark.bytes} bytes)`);
  let data: Uint8Array;
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw bad('is not a regular file');
    if (st.size < mark.bytes)
      throw bad(`is ${st.size} bytes, shorter than the ${mark.bytes} the checkpoint was written with`);
    data = new Uint8Array(mark.bytes);
    let off = 0;
    while (off < mark.bytes) {
      const { bytesRead } = await handle.read(data, off, mark.bytes - off, off);
      if (bytesRead === 0) throw bad('shrank while it was read');
      off += bytesRead;
    }
  } finally {
    await handle.close();
  }
  if (mark.sha256 !== undefined && historyHash(data) !== mark.sha256)
    throw bad(`was changed since the checkpoint was written (sha256 of its first ${mark.bytes} bytes differs)`);
  const lines = new TextDecoder().decode(data).split('\n');
  const events: EngramEvent[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === '') continue;
    let event: unknown;
    try {
      event = JSON.parse(line);
    } catch {
      throw bad(`has a damaged line ${i + 1} (not JSON)`);
    }
    const e = event as { type?: unknown; seq?: unknown; time?: unknown } | null;
    if (
      typeof e !== 'object' ||
      e === null ||
      typeof e.type !== 'string' ||
      typeof e.seq !== 'number' ||
      typeof e.time !== 'number'
    )
      throw bad(`has a damaged line ${i + 1} (not an event)`);
    events.push(event as EngramEvent);
  }
  if ((events[events.length - 1]?.seq ?? -1) !== mark.seq)
    throw bad(`does not end with event ${mark.seq} at byte ${mark.bytes}`);
  return events;
}
