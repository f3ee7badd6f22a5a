import { StringEnum, Type, type EventSink, type Static } from '@engram/core';
import type { JsonFields, LabelSpec, ParsedRow } from '../data/row-parsers.js';
import { checkRecord, checkRecordLine, type CheckedRecord, type RecordContract } from './record-check.js';

/** Options every live JSON source shares: the record layout, the declared stream shape and the buffer. */
export const liveOptions = {
  inputShape: Type.Array(Type.Integer({ minimum: 1 }), {
    minItems: 1,
    description:
      'Shape of one sample (a live stream cannot be inspected ahead); records carry prod(inputShape) features.',
  }),
  numClasses: Type.Optional(
    Type.Integer({ minimum: 1, description: 'Labels are integers below this. Give this or labels.' }),
  ),
  labels: Type.Optional(
    Type.Array(Type.String(), { minItems: 1, uniqueItems: true, description: 'Label names; class = position.' }),
  ),
  featuresField: Type.String({ minLength: 1, default: 'x', description: 'Field holding the feature array.' }),
  labelField: Type.String({ minLength: 1, default: 'y', description: 'Field holding the label.' }),
  taskField: Type.Optional(Type.String({ minLength: 1, description: 'Field holding a task index.' })),
  targetField: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'Field holding the regression target (a number, or an array of targetCount numbers): the stream then feeds ' +
        'task "regression" (scored by prequential MAE/RMSE), labelField is not read, and numClasses/labels are not given.',
    }),
  ),
  targetCount: Type.Optional(
    Type.Integer({
      minimum: 1,
      description: 'Regression targets per record (model outputs) with targetField; default 1 (a plain number).',
    }),
  ),
  buffer: Type.Integer({
    minimum: 1,
    default: 1024,
    description: 'Bounded buffer between the feed and the trainer, in samples.',
  }),
};

/** The overflow policy option with its per-source default. */
export function policyOption(defaultPolicy: 'block' | 'drop-oldest') {
  return StringEnum(['block', 'drop-oldest', 'sample'] as const, {
    default: defaultPolicy,
    description:
      'Full buffer: block (pause the feed), drop-oldest, or sample (keep a uniform sample); drops are reported as `dropped` events.',
  });
}

export const LiveBase = Type.Object(liveOptions);
/** The shared live options after validation. */
export type LiveOptions = Static<typeof LiveBase>;

/** What {@link liveRecordSpec} returns: record fields, feature count, label spec, outputs and the door contract. */
export interface LiveRecordSpec {
  readonly fields: JsonFields;
  readonly length: number;
  readonly spec: LabelSpec;
  /** Model outputs: classes, or regression targets per record. */
  readonly numClasses: number;
  /** Set for a regression feed (`targetField`): targets per record. */
  readonly targets?: number;
  readonly contract: RecordContract;
  /** What the source's `StreamInfo` says of its outputs (`numClasses`, `regression`, `classNames`). */
  readonly info: { numClasses: number; regression?: true; classNames?: string[] };
}

/** Checks the class spec (or the regression target spec) and returns it with the record fields and feature count. */
export function liveRecordSpec(o: LiveOptions, kind: string): LiveRecordSpec {
  const length = o.inputShape.reduce((a, b) => a * b, 1);
  const fields = { features: o.featuresField, label: o.labelField, task: o.taskField };
  if (o.targetField !== undefined) {
    if (o.numClasses !== undefined || o.labels !== undefined)
      throw new Error(`${kind}: give targetField (regression) or numClasses/labels (classes), not both`);
    const targets = o.targetCount ?? 1;
    return {
      fields,
      length,
      spec: { numClasses: targets },
      numClasses: targets,
      targets,
      contract: {
        inputShape: o.inputShape,
        numClasses: targets,
        features: o.featuresField,
        label: o.labelField,
        task: o.taskField,
        target: o.targetField,
        targetCount: targets,
      },
      info: { numClasses: targets, regression: true },
    };
  }
  if (o.targetCount !== undefined) throw new Error(`${kind}: targetCount needs targetField`);
  const numClasses = o.labels?.length ?? o.numClasses;
  if (numClasses === undefined)
    throw new Error(`${kind}: give "numClasses" or "labels" (a live stream cannot be scanned ahead)`);
  if (o.labels && o.numClasses !== undefined && o.numClasses !== o.labels.length)
    throw new Error(`${kind}: numClasses ${o.numClasses} disagrees with ${o.labels.length} labels`);
  return {
    fields,
    length,
    spec: { labels: o.labels, numClasses },
    numClasses,
    contract: {
      inputShape: o.inputShape,
      numClasses,
      labels: o.labels,
      features: o.featuresField,
      label: o.labelField,
      task: o.taskField,
    },
    info: { numClasses, ...(o.labels ? { classNames: o.labels } : {}) },
  };
}

const asRow = (r: CheckedRecord | string): ParsedRow => (typeof r === 'string' ? { error: r } : r);

/** Parses one JSONL line of a live feed and checks it at the door ({@link checkRecord}). */
export function parseLiveLine(text: string, r: LiveRecordSpec): ParsedRow {
  return asRow(checkRecordLine(text, r.contract));
}

/** Checks one parsed JSON record of a live feed at the door ({@link checkRecord}). */
export function parseLiveRecord(value: unknown, r: LiveRecordSpec): ParsedRow {
  return asRow(checkRecord(value, r.contract));
}

/**
 * Reports bad lines of a live feed as `warning` events: every one of the first 10, then one per 1,000,
 * so a broken producer cannot flood the event log; each carries the running total (`badRecords`), and
 * {@link LiveBadLines.final} the total when the feed ends.
 */
export class LiveBadLines {
  count = 0;
  constructor(
    private readonly name: string,
    private readonly events: EventSink,
  ) {}

  add(line: number, reason: string): void {
    this.count++;
    if (this.count <= 10 || this.count % 1000 === 0) {
      this.events.emit({
        type: 'warning',
        message: `${this.name}: skipped bad line ${line}: ${reason} (${this.count} skipped so far)`,
        badRecords: { source: this.name, total: this.count },
      });
    }
  }

  /** Reports the total once the feed ended (summary.json's `badRecords` takes it); nothing if none were skipped. */
  final(): void {
    if (this.count > 0)
      this.events.emit({
        type: 'warning',
        message: `${this.name}: skipped ${this.count} bad line(s) in all`,
        badRecords: { source: this.name, total: this.count },
      });
  }
}
