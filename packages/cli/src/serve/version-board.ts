import type * as tf from '@tensorflow/tfjs';
import { ModelVersion, type WeightSnapshot } from './model-version.js';

/** A retired version's network and its topology key. */
export type Spare = { readonly key: string; readonly network: tf.LayersModel };

/** How a snapshot becomes a version; `spare` may be reused (see `ModelVersion.fromSnapshot`) and is owned by the build. */
export type VersionBuild = (snapshot: WeightSnapshot, spare: Spare | undefined) => Promise<ModelVersion>;

/**
 * The currently served {@link ModelVersion}. Snapshots are turned into versions one at a time, off the
 * training path; when several arrive while one is being built, only the newest is built (a server
 * wants the latest weights, not every one). A replaced version ends at once (predictions are
 * synchronous, so none is using it) and its network is kept to receive the next version's weights
 * when the topology is the same: building a tfjs model (layers, variables, weight loading) holds
 * the event loop far longer than writing the weights into existing variables.
 */
export class VersionBoard {
  private served: ModelVersion | undefined;
  private pending: WeightSnapshot | undefined;
  private building: Promise<void> | undefined;
  private closed = false;
  private readonly listeners: Array<(v: ModelVersion) => void> = [];
  /** Versions published so far (also the next snapshot's number minus one). */
  published = 0;
  /**
   * Why the last build failed; undefined once a build succeeds (the owner reports it; serving goes on
   * with the previous version meanwhile).
   */
  lastError: Error | undefined;
  /** Builds that failed so far. */
  failedBuilds = 0;
  /** Versions built by writing the weights into a retired version's network (no model build). */
  reused = 0;
  private build: VersionBuild = (s, spare) => ModelVersion.fromSnapshot(s, undefined, spare);
  /** The network of the version replaced last, kept for the next build of the same topology. */
  private spare: Spare | undefined;

  /** Sets how a snapshot becomes a version (default: its plain network; a run's server: the run's evaluation view). */
  buildWith(build: VersionBuild): void {
    this.build = build;
  }

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
    // Predictions are synchronous: nothing uses the replaced version any more; its network is kept
    // for the next build (a newer spare replaces an older one).
    const retired = old?.retire();
    if (retired) {
      this.spare?.network.dispose();
      this.spare = retired;
    }
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
    this.spare?.network.dispose();
    this.spare = undefined;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending && !this.closed) {
        const s = this.pending;
        this.pending = undefined;
        const spare = this.spare;
        this.spare = undefined;
        try {
          const version = await this.build(s, spare);
          if (spare && version.network === spare.network) this.reused++;
          this.replace(version);
          this.lastError = undefined;
        } catch (e) {
          this.lastError = e instanceof Error ? e : new Error(String(e));
          this.failedBuilds++;
        }
      }
    } finally {
      this.building = undefined;
    }
  }
}
