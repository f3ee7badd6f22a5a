import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointStore } from '@engram/core/internal';

/**
 * Watches a run's checkpoint folder for a checkpoint newer than the one served (polling: checkpoints
 * appear by an atomic rename, which every file system reports the same way to a directory listing).
 * `onNewer` is called with nothing when the newest name changed; the caller loads and verifies it
 * (a corrupt newest falls back to the previous valid one, as `--resume` does).
 */
export class CheckpointFollower {
  private timer: NodeJS.Timeout | undefined;
  private newest: string | undefined;
  private busy = false;

  constructor(
    private readonly path: string,
    private readonly everyMs: number,
    private readonly onNewer: () => Promise<void>,
  ) {}

  /** The folder holding `step-*` checkpoints, or undefined when `path` is one checkpoint (nothing to follow). */
  static root(path: string): string | undefined {
    if (existsSync(join(path, 'manifest.json'))) return undefined;
    return existsSync(join(path, 'checkpoints')) ? join(path, 'checkpoints') : path;
  }

  /** Starts polling; `current` is the checkpoint directory served now. */
  async start(current: string | undefined): Promise<void> {
    this.newest = current;
    this.timer = setInterval(() => void this.poll(), this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async poll(): Promise<void> {
    const root = CheckpointFollower.root(this.path);
    if (this.busy || !root || !existsSync(root)) return;
    this.busy = true;
    try {
      const dirs = await new CheckpointStore(root, Number.MAX_SAFE_INTEGER, '').list();
      const newest = dirs[0];
      if (newest !== undefined && newest !== this.newest) {
        this.newest = newest;
        await this.onNewer();
      }
    } catch {
      // a listing racing a rename: the next poll sees the settled folder
    } finally {
      this.busy = false;
    }
  }
}
