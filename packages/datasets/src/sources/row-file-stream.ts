import { from, type Observable } from 'rxjs';
import type { Batch, BatchRequest, BatchSource, DataSource, Experience, StreamInfo } from '@engram/core';
import type { Sample } from '../live/live-batch-source.js';
import type { RowFormat } from './row-format.js';
import { peekFeatures, readRows, type RowFileSettings } from './row-file.js';

/** The number of regression targets of a row file's first valid row (the file is not read further). */
async function peekTargets(settings: RowFileSettings, format: RowFormat): Promise<number> {
  for await (const row of readRows({ ...settings, policy: 'skip', deadLetter: undefined, events: undefined }, format))
    return row.t?.length ?? 0;
  throw new Error(`${settings.file}: no valid row to learn the number of targets from`);
}

/**
 * A finite {@link BatchSource} that reads a row file in file order on every pass, incrementally: at most
 * one batch and one read chunk are in memory, however large the file. `shuffle` is ignored (file order).
 */
export class RowFileBatchSource implements BatchSource {
  constructor(
    private readonly settings: RowFileSettings,
    private readonly makeFormat: () => RowFormat,
    private readonly features: number,
  ) {}

  async *batches(request: BatchRequest): AsyncIterable<Batch> {
    const skip = (request.startBatch ?? 0) * request.batchSize;
    let seen = 0;
    let rows: Sample[] = [];
    for await (const row of readRows(this.settings, this.makeFormat())) {
      if (request.signal?.aborted) return;
      if (seen++ < skip) continue;
      rows.push(row);
      if (rows.length === request.batchSize) {
        yield this.batch(rows);
        rows = [];
      }
    }
    if (rows.length > 0) yield this.batch(rows);
  }

  /** One batch of rows: features, labels, task labels when every row has one, regression targets when it has them. */
  private batch(rows: readonly Sample[]): Batch {
    const n = rows.length;
    const x = new Float32Array(n * this.features);
    const y = new Int32Array(n);
    const k = rows[0]?.t?.length ?? 0;
    const targetValues = k > 0 ? new Float32Array(n * k) : undefined;
    const withTask = rows.every((r) => r.task !== undefined);
    const task = withTask ? new Int32Array(n) : undefined;
    rows.forEach((r, i) => {
      x.set(r.x, i * this.features);
      y[i] = r.y;
      if (task) task[i] = r.task as number;
      if (targetValues && r.t) targetValues.set(r.t, i * k);
    });
    return { x, y, sampleShape: [this.features], ...(targetValues ? { targetValues } : {}), ...(task ? { task } : {}) };
  }
}

/**
 * The `sequential` scenario of a row file: a task-free stream (StreamInfo.experiences = 'endless', the
 * engine's stream mode) with one experience that reads the file once, in order, incrementally.
 * The number of classes must be given (`numClasses` or `labels`): the file is not scanned ahead. A
 * regression file (target columns/field) streams its targets; its outputs are counted on its first row.
 */
export class RowFileStreamSource implements DataSource {
  private info: Promise<{ info: StreamInfo; features: number }> | undefined;

  constructor(
    private readonly settings: RowFileSettings,
    private readonly makeFormat: () => RowFormat,
  ) {}

  private prepare(): Promise<{ info: StreamInfo; features: number }> {
    this.info ??= (async () => {
      const format = this.makeFormat();
      // A regression file: as many outputs as its rows have targets (read from the first valid row).
      const numClasses = format.regression
        ? await peekTargets(this.settings, this.makeFormat())
        : (format.spec.labels?.length ?? format.spec.numClasses);
      if (numClasses === undefined) {
        throw new Error(
          `${this.settings.file}: the "sequential" scenario streams the file without reading it ahead, so give "numClasses" or "labels"`,
        );
      }
      const features = await peekFeatures(this.settings, format);
      return {
        info: {
          inputShape: [features],
          numClasses,
          experiences: 'endless',
          scenario: 'sequential',
          ...(format.regression ? { regression: true } : {}),
          ...(format.spec.labels && !format.regression ? { classNames: format.spec.labels } : {}),
        },
        features,
      };
    })();
    return this.info;
  }

  async describe(): Promise<StreamInfo> {
    return (await this.prepare()).info;
  }

  experiences(): Observable<Experience> {
    return from(
      this.prepare().then(({ info, features }): Experience => ({
        index: 0,
        name: 'sequential',
        classes: info.regression ? [] : Array.from({ length: info.numClasses }, (_, i) => i),
        train: new RowFileBatchSource(this.settings, this.makeFormat, features),
      })),
    );
  }
}
