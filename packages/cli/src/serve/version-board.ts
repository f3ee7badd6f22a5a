import type * as tf from '@tensorflow/tfjs';
import { ModelVersion, type WeightSnapshot } from './model-version.js';
import type { GateVerdict } from './promotion-gate.js';
import { promotedEvent, VersionHistory, type VersionDecision, type VersionStatus } from './version-history.js';

/** A retired version's network and its topology key. */
export type Spare = { readonly key: string; readonly network: tf.LayersModel };

/** How a snapshot becomes a version; `spare` may be reused (see `ModelVersion.fromSnapshot`) and is owned by the build. */
export type VersionBuild = (snapshot: WeightSnapshot, spare: Spare | undefined) => Promise<ModelVersion>;

/** Decides whether `candidate` may replace `served` (`serve.promote`, see `judge`). */
export type VersionGate = (candidate: ModelVersion, served: ModelVersion) => GateVerdict;

/** Options of a {@link VersionBoard}. */
export interface VersionBoardOptions {
  /** Earlier served versions kept for `POST /rollback` (their networks stay in memory); default 0. */
  readonly keep?: number;
}

/**
 * The currently served {@link ModelVersion}. Snapshots are turned into versions one at a time, off the
 * training path; when several arrive while one is being built, only the newest is built (a server
 * wants the latest weights, not every one). A replaced version ends at once (predictions are
 * synchronous, so none is using it) and its network is kept to receive the next version's weights
 * when the topology is the same: building a tfjs model (layers, variables, weight loading) holds
 * the event loop far longer than writing the weights into existing variables.
 *
 * With a gate ({@link gateWith}) a built version is served only if it passes; otherwise it stays the
 * {@link candidate} (shadow scoring, force-promotion) until a newer one is built. Earlier served
 * versions (`keep` of them) stay for {@link rollback}. Every decision goes to {@link onDecision}
 * listeners and to {@link history}.
 */
export class VersionBoard {
  private served: ModelVersion | undefined;
  /** The newest built version that was not promoted. */
  private latest: ModelVersion | undefined;
  /** Earlier served versions, oldest first (at most `keep`). */
  private readonly previous: ModelVersion[] = [];
  private gate: VersionGate | undefined;
  private readonly deciders: Array<(d: VersionDecision) => void> = [];
  /** Each version's scores and why it was or was not served (`GET /versions`). */
  readonly history = new VersionHistory();
  /** Versions promoted (any reason) and rejected so far. */
  readonly counts = { promoted: 0, rejected: 0 };
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
  private readonly keep: number;

  constructor(options: VersionBoardOptions = {}) {
    this.keep = options.keep ?? 0;
  }

  /** Sets the promotion gate (`serve.promote`); without one every built version is served. */
  gateWith(gate: VersionGate | undefined): void {
    this.gate = gate;
  }

  /** Calls `listener` with every promotion decision (promoted, rejected, forced, rolled back). */
  onDecision(listener: (d: VersionDecision) => void): void {
    this.deciders.push(listener);
  }

  /** The newest version that was built but not promoted (rejected by a gate), if it is newer than the served one. */
  get candidate(): ModelVersion | undefined {
    return this.latest;
  }

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

  /** Serves `version` directly, without the gate (loaded from a checkpoint or an export, or the first). */
  replace(version: ModelVersion): void {
    if (this.closed) {
      version.dispose();
      return;
    }
    this.serve(version, this.served ? 'ungated' : 'first', []);
  }

  /**
   * Serves `version` if the gate passes it (or there is no gate or nothing served yet); otherwise keeps
   * it as the {@link candidate} and reports the rejection. Returns whether it is served.
   */
  offer(version: ModelVersion): boolean {
    if (this.closed) {
      version.dispose();
      return false;
    }
    const served = this.served;
    if (!served || !this.gate) {
      this.serve(version, served ? 'ungated' : 'first', []);
      return true;
    }
    const verdict = this.gate(version, served);
    if (verdict.passed) {
      this.serve(version, 'gates', verdict.checks);
      return true;
    }
    if (this.latest) {
      this.history.setStatus(this.latest.info.version, 'rejected');
      this.retire(this.latest);
    }
    this.latest = version;
    this.counts.rejected++;
    this.decide({
      type: 'version-rejected',
      ...version.info,
      served: served.info.version,
      check: verdict.failed?.name ?? 'gate',
      message: verdict.message,
      checks: verdict.checks,
    });
    return false;
  }

  /**
   * Force-promotes version `v` (`POST /versions/{v}/promote`): the {@link candidate} or a kept earlier
   * version. Returns the reason when it cannot (unknown or no longer kept).
   */
  promote(v: number): string | undefined {
    if (this.served?.info.version === v) return undefined;
    if (this.latest?.info.version === v) {
      const version = this.latest;
      this.latest = undefined;
      this.serve(version, 'forced', []);
      return undefined;
    }
    const at = this.previous.findIndex((p) => p.info.version === v);
    if (at < 0) return `version ${v} is not kept: ${this.keptMessage()}`;
    const [version] = this.previous.splice(at, 1);
    if (version) this.serve(version, 'forced', []);
    return undefined;
  }

  /**
   * Serves the previous served version again (`POST /rollback`); the version served now is dropped.
   * Returns the reason when there is none.
   */
  rollback(): string | undefined {
    const back = this.previous.pop();
    if (!back) return `no earlier served version is kept (${this.keptMessage()})`;
    const old = this.served;
    this.served = back;
    if (old) this.retire(old);
    this.counts.promoted++;
    this.decide(
      promotedEvent(back.info, 'rollback', old?.info.version, []),
      old && { version: old.info.version, status: 'rolled-back' },
    );
    for (const l of this.listeners) l(back);
    return undefined;
  }

  /** Versions that POST /versions/{v}/promote accepts now. */
  kept(): number[] {
    return [...this.previous, ...(this.latest ? [this.latest] : [])].map((v) => v.info.version);
  }

  private keptMessage(): string {
    const kept = this.kept();
    return kept.length > 0 ? `kept versions: ${kept.join(', ')}` : 'none is kept';
  }

  private serve(
    version: ModelVersion,
    reason: 'first' | 'ungated' | 'gates' | 'forced',
    checks: VersionDecision['checks'],
  ): void {
    const old = this.served;
    this.served = version;
    // Predictions are synchronous: nothing uses the replaced version any more. It is kept for a
    // rollback, or retired (its network kept for the next build; a newer spare replaces an older one).
    let status: VersionStatus = 'replaced';
    if (old && this.keep > 0) {
      this.previous.push(old);
      while (this.previous.length > this.keep) {
        const dropped = this.previous.shift();
        if (dropped) {
          this.history.setStatus(dropped.info.version, 'dropped');
          this.retire(dropped);
        }
      }
    } else if (old) {
      this.retire(old);
      status = 'dropped';
    }
    if (this.latest && this.latest.info.version < version.info.version) {
      this.history.setStatus(this.latest.info.version, 'rejected');
      this.retire(this.latest);
      this.latest = undefined;
    }
    this.counts.promoted++;
    this.decide(
      promotedEvent(version.info, reason, old?.info.version, checks),
      old && { version: old.info.version, status },
    );
    for (const l of this.listeners) l(version);
  }

  private retire(version: ModelVersion): void {
    const retired = version.retire();
    if (retired) {
      this.spare?.network.dispose();
      this.spare = retired;
    }
  }

  private decide(d: VersionDecision, replaced?: { readonly version: number; readonly status: VersionStatus }): void {
    this.history.decided(d, replaced);
    for (const l of this.deciders) l(d);
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
    this.latest?.dispose();
    this.latest = undefined;
    for (const p of this.previous.splice(0)) p.dispose();
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
          this.offer(version);
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
