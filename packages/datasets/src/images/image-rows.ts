import type { EventSink } from '@engram/core';
import type { RowLoader } from '../data/labelled-set.js';
import type { DecodePool } from './decode-pool.js';
import type { DecodeSpec } from './decode-spec.js';

/** Counters of an image-folder source, for its events and the bench. */
export interface ImageStats {
  /** Images decoded (cache hits not counted). */
  decoded: number;
  /** Distinct files that could not be read (each warned about once). */
  unreadable: number;
  /** Milliseconds batch consumers waited for decoded batches. */
  waitMs: number;
}

/**
 * The {@link RowLoader} of one image list: decodes the files of the requested rows on the pool, split
 * evenly over its threads, and keeps them when `cache` is on (memory then grows with the data set).
 * An unreadable file is counted and warned about once (naming it), its row dropped.
 */
export class ImageRows implements RowLoader {
  private readonly cache: Map<number, Float32Array> | undefined;
  private readonly len: number;

  constructor(
    private readonly files: readonly string[],
    private readonly spec: DecodeSpec,
    private readonly pool: DecodePool,
    private readonly threads: number,
    readonly prefetch: number,
    cache: boolean,
    private readonly stats: ImageStats,
    private readonly failedFiles: Set<string>,
    private readonly events: EventSink,
  ) {
    this.cache = cache ? new Map() : undefined;
    this.len = spec.height * spec.width * spec.channels;
  }

  async load(rows: Int32Array): Promise<{ x: Float32Array; ok: Uint8Array }> {
    const len = this.len;
    const x = new Float32Array(rows.length * len);
    const ok = new Uint8Array(rows.length).fill(1);
    const need: number[] = [];
    rows.forEach((r, k) => {
      const hit = this.cache?.get(r);
      if (hit) x.set(hit, k * len);
      else if (this.failedFiles.has(this.files[r] as string)) ok[k] = 0;
      else need.push(k);
    });
    const per = Math.ceil(need.length / Math.max(1, this.threads));
    const chunks: number[][] = [];
    for (let i = 0; i < need.length; i += per) chunks.push(need.slice(i, i + per));
    const replies = await Promise.all(
      chunks.map((ks) =>
        this.pool.decode(
          ks.map((k) => this.files[rows[k] as number] as string),
          this.spec,
        ),
      ),
    );
    replies.forEach((reply, c) => {
      const ks = chunks[c] as number[];
      const bad = new Set(reply.failed.map((f) => f.at));
      ks.forEach((k, i) => {
        if (bad.has(i)) return;
        const row = reply.x.subarray(i * len, (i + 1) * len);
        x.set(row, k * len);
        this.cache?.set(rows[k] as number, row.slice());
      });
      this.stats.decoded += ks.length - bad.size;
      for (const f of reply.failed) {
        const k = ks[f.at] as number;
        ok[k] = 0;
        this.unreadable(this.files[rows[k] as number] as string, f.reason);
      }
    });
    return { x, ok };
  }

  waited(ms: number): void {
    this.stats.waitMs += ms;
  }

  private unreadable(file: string, reason: string): void {
    if (this.failedFiles.has(file)) return;
    this.failedFiles.add(file);
    this.stats.unreadable++;
    this.events.emit({
      type: 'warning',
      message: `${file}: unreadable image skipped (${reason})`,
      badRecords: { source: 'image-folder', total: this.stats.unreadable },
    });
  }
}
