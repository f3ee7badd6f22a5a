import type { EngramEventInput, EventOf, GateCheck } from '@engram/core';
import type { VersionInfo } from './model-version.js';

/** A promotion decision, as the run's `version-promoted` / `version-rejected` event (without seq and time). */
export type VersionDecision = Extract<EngramEventInput, { type: 'version-promoted' | 'version-rejected' }>;

/** What became of one version. */
export type VersionStatus = 'served' | 'candidate' | 'rejected' | 'replaced' | 'rolled-back' | 'dropped';

/** One line of `GET /versions`. */
export interface VersionRecord extends VersionInfo {
  status: VersionStatus;
  /** Why it was (`promoted: first | ungated | gates | forced | rollback`) or was not (`rejected: <check>`) served. */
  decision: string;
  /** The served version it was compared with. */
  comparedWith?: number;
  /** Its gate scores (each check: served and candidate accuracy on the same samples). */
  checks: GateCheck[];
  /** Its prequential accuracy on labelled feedback, when it answered (served) or shadowed requests. */
  feedback?: { readonly labelled: number; readonly accuracy: number };
  /** `Date.now()` of the decision. */
  at: number;
}

/** Most versions remembered by {@link VersionHistory}. */
const KEEP = 200;

/**
 * The history behind `GET /versions`: each version's gate scores and why it was or was not served,
 * newest last, bounded to the last {@link KEEP} versions. Written by the `VersionBoard` on every
 * decision, read by the routes.
 */
export class VersionHistory {
  private readonly records = new Map<number, VersionRecord>();

  /** Records a decision and updates the statuses it changes. */
  decided(d: VersionDecision, replaced?: { readonly version: number; readonly status: VersionStatus }): void {
    if (replaced) this.setStatus(replaced.version, replaced.status);
    const info = { version: d.version, step: d.step, experience: d.experience };
    const old = this.records.get(d.version);
    const record: VersionRecord =
      d.type === 'version-promoted'
        ? {
            ...info,
            status: 'served',
            decision: `promoted: ${d.reason}`,
            ...(d.previous !== undefined ? { comparedWith: d.previous } : {}),
            checks: d.checks.length > 0 ? d.checks : (old?.checks ?? []),
            at: Date.now(),
          }
        : {
            ...info,
            status: 'candidate',
            decision: `rejected: ${d.check}`,
            comparedWith: d.served,
            checks: d.checks,
            at: Date.now(),
          };
    if (old?.feedback) record.feedback = old.feedback;
    this.records.delete(d.version);
    this.records.set(d.version, record);
    while (this.records.size > KEEP) {
      const first = this.records.keys().next().value;
      if (first === undefined) break;
      this.records.delete(first);
    }
  }

  /** Sets a version's status (a rejected candidate replaced by a newer one becomes `rejected`). */
  setStatus(version: number, status: VersionStatus): void {
    const r = this.records.get(version);
    if (r) r.status = status;
  }

  /** Sets a version's prequential feedback accuracy. */
  scored(version: number, labelled: number, accuracy: number): void {
    const r = this.records.get(version);
    if (r) r.feedback = { labelled, accuracy };
  }

  /** Every remembered version, oldest first. */
  list(): VersionRecord[] {
    return [...this.records.values()];
  }

  /** One version's record. */
  get(version: number): VersionRecord | undefined {
    return this.records.get(version);
  }
}

/** The promoted event of `info` (helper for the board). */
export function promotedEvent(
  info: VersionInfo,
  reason: EventOf<'version-promoted'>['reason'],
  previous: number | undefined,
  checks: GateCheck[],
): VersionDecision {
  return {
    type: 'version-promoted',
    version: info.version,
    step: info.step,
    experience: info.experience,
    ...(previous !== undefined ? { previous } : {}),
    reason,
    checks,
  };
}
