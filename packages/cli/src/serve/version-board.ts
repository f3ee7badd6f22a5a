import { ModelVersion, type WeightSnapshot } from './model-version.js';

/**
 * The currently served {@link ModelVersion}. Snapshots are turned into versions one at a time, off the
 * training path; when several arrive while one is being built, only the newest is built (a server
 * wants the latest weights, not every one). A replaced version is disposed at once: predictions are
 * synchronous, so none is using it.
 */
export class VersionBoard {
  private served: ModelVersion | undefined;
  private pending: WeightSnapshot | undefined;
  private building: Promise<void> | undefined;
  private closed = false;
  private readonly listeners: Array<(v: ModelVersion) => void> = [];
  /** Versions published so far (also the next snapshot's number minus one). */
  published = 0;
  /** The last build failure, if any (reported by the owner; serving goes on with the previous version). */
  lastError: Error | undefined;

  /** The version answering predictions now, if any. */
  get current(): ModelVersion | undefined {
    return this.served;
  }

  /** Calls `listener` with every version that becomes current. */
  onPublish(listener: (v: ModelVersion) => void): void {
    this.listeners.push(listener);
  }

  /** The next version number (call once per snapshot). */
  nextNumber(): number {
    return ++this.published;
  }

  /** Queues `snapshot` to become the served version; returns when it (or a newer one) is served. */
  submit(snapshot: WeightSnapshot): Promise<void> {
    this.pending = snapshot;
    this.building ??= this.drain();
    return this.building;
  }

  /** Serves `version` directly (loaded from a checkpoint or an export). */
  replace(version: ModelVersion): void {
    if (this.closed) {
      version.dispose();
      return;
    }
    const old = this.served;
    this.served = version;
    old?.dispose();
    for (const l of this.listeners) l(version);
  }

  /** Waits for a build in progress. */
  async settled(): Promise<void> {
    await this.building;
  }

  /** Stops serving: disposes the current version (and any built later). */
  async close(): Promise<void> {
    this.closed = true;
    this.pending = undefined;
    await this.building;
    this.served?.dispose();
    this.served = undefined;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending && !this.closed) {
        const s = this.pending;
        this.pending = undefined;
        try {
          this.replace(await ModelVersion.fromSnapshot(s));
        } catch (e) {
          this.lastError = e instanceof Error ? e : new Error(String(e));
        }
      }
    } finally {
      this.building = undefined;
    }
  }
}
