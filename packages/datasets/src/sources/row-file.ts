import type { EventSink } from '@engram/core';
import { BadRowLog, type BadRowPolicy } from '../data/bad-rows.js';
import type { LabelledData } from '../data/labelled-set.js';
import type { Sample } from '../live/live-batch-source.js';
import type { RowFormat } from './row-format.js';

/** Where a row file is and what happens to its bad rows. */
export interface RowFileSettings {
  readonly file: string;
  readonly policy: BadRowPolicy;
  readonly deadLetter: string | undefined;
  readonly events: EventSink | undefined;
}

/**
 * The valid samples of a row file, read incrementally (one chunk at a time, never the whole file). Blank
 * lines are ignored; bad rows go to a {@link BadRowLog} (summarised in a `warning` event at the end of the pass).
 */
export async function* readRows(
  settings: RowFileSettings,
  format: RowFormat,
): AsyncGenerator<Sample & { line: number; t?: Float32Array; group?: string }> {
  const log = new BadRowLog(settings.file, settings.policy, settings.deadLetter, settings.events);
  try {
    for await (const { row, line, text } of format.rows(settings.file)) {
      if ('error' in row) log.add(line, row.error, text);
      else yield { ...row, line };
    }
  } finally {
    log.report();
  }
}

/** Reads the header (and, for formats that need it, the first valid row) to learn the feature count. */
export async function peekFeatures(settings: RowFileSettings, format: RowFormat): Promise<number> {
  for await (const _row of readRows(
    { ...settings, policy: 'skip', deadLetter: undefined, events: undefined },
    format,
  )) {
    break;
  }
  const n = format.features();
  if (n === undefined) throw new Error(`${settings.file}: no valid row to learn the number of features from`);
  return n;
}

/** Loads every valid row into memory (for scenarios that need the whole set). */
export async function loadRows(settings: RowFileSettings, format: RowFormat): Promise<LabelledData> {
  const xs: Float32Array[] = [];
  const ys: number[] = [];
  const ts: Float32Array[] = [];
  const groupOf = new Map<string, number>();
  const groups: number[] = [];
  let len: number | undefined;
  for await (const row of readRows(settings, format)) {
    len ??= row.x.length;
    xs.push(row.x);
    ys.push(row.y);
    if (row.t) ts.push(row.t);
    if (row.group !== undefined) {
      if (!groupOf.has(row.group)) groupOf.set(row.group, groupOf.size);
      groups.push(groupOf.get(row.group) as number);
    }
  }
  if (len === undefined) throw new Error(`${settings.file}: no valid rows`);
  const x = new Float32Array(ys.length * len);
  xs.forEach((r, i) => x.set(r, i * len));
  const y = Int32Array.from(ys);
  const grouped =
    groups.length === ys.length && groups.length > 0
      ? { set: { groups: Int32Array.from(groups) }, data: { groupNames: [...groupOf.keys()] } }
      : { set: {}, data: {} };
  if (format.regression) {
    const k = ts[0]?.length ?? 1;
    const targets = new Float32Array(ys.length * k);
    ts.forEach((t, i) => targets.set(t, i * k));
    return {
      train: { x, y, sampleShape: [len], targets, ...grouped.set },
      numClasses: k,
      regression: true,
      ...grouped.data,
    };
  }
  const maxLabel = ys.reduce((a, b) => Math.max(a, b), 0);
  const numClasses = format.spec.labels?.length ?? format.spec.numClasses ?? maxLabel + 1;
  return {
    train: { x, y, sampleShape: [len], ...grouped.set },
    ...grouped.data,
    numClasses,
    ...(format.spec.labels ? { classNames: format.spec.labels } : {}),
  };
}
