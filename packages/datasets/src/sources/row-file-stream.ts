import { from, type Observable } from 'rxjs';
import type { Batch, BatchRequest, BatchSource, DataSource, Experience, StreamInfo } from '@engram/core';
import type { RowFormat } from './row-format.js';
import { peekFeatures, readRows, type RowFileSettings } from './row-file.js';

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
    let x = new Float32Array(request.batchSize * this.features);
    let y = new Int32Array(request.batchSize);
    let tasks: number[] = [];
    let n = 0;
    for await (const row of readRows(this.settings, this.makeFormat())) {
      if (request.signal?.aborted) return;
      if (seen++ < skip) continue;
      x.set(row.x, n * this.features);
      y[n] = row.y;
      if (row.task !== undefined) tasks.push(row.task);
      n++;
      if (n === request.batchSize) {
        yield this.batch(x, y, tasks, n);
        x = new Float32Array(request.batchSize * this.features);
        y = new Int32Array(request.batchSize);
        tasks = [];
        n = 0;
      }
    }
    if (n > 0) yield this.batch(x.slice(0, n * this.features), y.slice(0, n), tasks, n);
  }

  private batch(x: Float32Array, y: Int32Array, tasks: number[], n: number): Batch {
    return { x, y, sampleShape: [this.features], ...(tasks.length === n ? { task: Int32Array.from(tasks) } : {}) };
  }
}

/**
 * The `sequential` scenario of a row file: a task-free stream (StreamInfo.experiences = 'endless', the
 * engine's stream mode) with one experience that reads the file once, in order, incrementally.
 * The number of classes must be given (`numClasses` or `labels`): the file is not scanned ahead.
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
      const numClasses = format.spec.labels?.length ?? format.spec.numClasses;
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
          ...(format.spec.labels ? { classNames: format.spec.labels } : {}),
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
        classes: Array.from({ length: info.numClasses }, (_, i) => i),
        train: new RowFileBatchSource(this.settings, this.makeFormat, features),
      })),
    );
  }
}
