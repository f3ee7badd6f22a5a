import type { PytorchAnchor } from './pytorch.bench.js';
import type { RoundLog } from './round-log.js';

/** JSON values the bench prints. */
export type JsonValue = number | string | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** A printable row: `name  value unit`. */
export interface BenchRow {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
}

/** Writes `value` under `key` unless it is NaN (a measurement that did not run). */
export function put(target: JsonObject, key: string, value: number): void {
  if (!Number.isNaN(value)) target[key] = value;
}

/** Of the anchors, the one with the highest `score` (NaN scores lose); undefined when none has one. */
export function fastest(
  anchors: readonly PytorchAnchor[],
  score: (a: PytorchAnchor) => number,
): PytorchAnchor | undefined {
  let best: PytorchAnchor | undefined;
  for (const a of anchors) if (!Number.isNaN(score(a)) && (best === undefined || score(a) > score(best))) best = a;
  return best;
}

/** How {@link reportAgainstAnchors} writes one measured configuration's comparison with the PyTorch anchors. */
export interface AnchorReport {
  /** Prefix of each anchor's row: `<label> pytorch <torch version>`. */
  readonly label: string;
  /** The object each anchor's entry sits in, under the anchor's key. */
  readonly entries: JsonObject;
  /** A new entry for an anchor that has none in {@link entries} yet (e.g. `{ torch }`). */
  readonly newEntry: (a: PytorchAnchor) => JsonObject;
  /** The keys an anchor's entry gets and their values; NaN values (not measured) are left out. */
  readonly anchorValues: (a: PytorchAnchor) => Readonly<Record<string, number>>;
  /** Leave out an anchor whose new entry got no value (default: every anchor gets its entry). */
  readonly onlyMeasured?: boolean;
  /** Where the fastest anchor's keys go. */
  readonly fastestTarget: JsonObject;
  /** The fastest anchor's keys: strings always written, NaN numbers left out. */
  readonly fastestValues: (best: PytorchAnchor) => Readonly<Record<string, number | string>>;
}

/**
 * The per-anchor part of a bench section's report for one measured configuration, whose anchors
 * recorded their samples/s in `log` under their keys: an entry per anchor (see {@link AnchorReport}),
 * a `samples/s` row per anchor that ran, and the keys of the fastest anchor (highest samples/s).
 * Called by the throughput, backbone and big sections after their rounds; writes `report`'s objects
 * and `rows` only.
 */
export function reportAgainstAnchors(
  log: RoundLog,
  anchors: readonly PytorchAnchor[],
  rows: BenchRow[],
  report: AnchorReport,
): void {
  for (const a of anchors) {
    const existing = report.entries[a.key] as JsonObject | undefined;
    const entry = existing ?? report.newEntry(a);
    const given = Object.keys(entry).length;
    for (const [key, value] of Object.entries(report.anchorValues(a))) put(entry, key, value);
    if (!existing && !(report.onlyMeasured === true && Object.keys(entry).length === given))
      report.entries[a.key] = entry;
    if (!Number.isNaN(log.value(a.key)))
      rows.push({ name: `${report.label} pytorch ${a.torch}`, value: log.value(a.key), unit: 'samples/s' });
  }
  const best = fastest(anchors, (a) => log.value(a.key));
  if (!best) return;
  for (const [key, value] of Object.entries(report.fastestValues(best))) {
    if (typeof value === 'string') report.fastestTarget[key] = value;
    else put(report.fastestTarget, key, value);
  }
}
