import type { BackendName } from '../pipeline/pipeline-definition.js';
import { activateBackend, BackendUnavailableError, type BackendSelection } from './backend.selector.js';

/** A run's hold on the process's tfjs backend; {@link BackendLease.release} when the run ends. */
export interface BackendLease {
  readonly selection: BackendSelection;
  /** Gives the hold back (idempotent). When the last holder releases, the next run selects afresh. */
  release(): void;
}

interface Held {
  readonly requested: BackendName;
  readonly selection: BackendSelection;
  holders: number;
}

// tfjs has one engine and one active backend per process: this module is the one place that knows
// which backend the runs of this process are on. It holds no run's state.
let held: Held | undefined;
let queue: Promise<unknown> = Promise.resolve();

function compatible(h: Held, requested: BackendName): boolean {
  return requested === h.requested || requested === h.selection.report.name;
}

async function acquire(requested: BackendName): Promise<BackendLease> {
  if (held && !compatible(held, requested)) {
    throw new BackendUnavailableError(
      `backend "${requested}" cannot be used while another run in this process trains on ` +
        `"${held.selection.report.name}" (tfjs has one backend per process)`,
    );
  }
  if (held) held.holders++;
  else held = { requested, selection: await activateBackend(requested), holders: 1 };
  const mine = held;
  let released = false;
  return {
    selection: { ...mine.selection, report: { ...mine.selection.report, requested } },
    release: () => {
      if (released) return;
      released = true;
      mine.holders--;
      if (mine.holders === 0 && held === mine) held = undefined;
    },
  };
}

/**
 * Activates `requested` for a run — or, while other runs of this process hold the backend, joins
 * theirs when it is the same one (same request, or the backend they got), so a second run never
 * switches the backend under the first. Requests are served one at a time. An incompatible request is
 * a {@link BackendUnavailableError}.
 */
export function leaseBackend(requested: BackendName): Promise<BackendLease> {
  const next = queue.then(() => acquire(requested));
  queue = next.catch(() => undefined);
  return next;
}
