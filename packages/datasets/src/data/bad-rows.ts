import { appendFileSync, renameSync, writeFileSync } from 'node:fs';
import type { EventSink } from '@engram/core';

/** What to do with a row that cannot be parsed: skip it (logged to a dead-letter file) or stop the run. */
export type BadRowPolicy = 'skip' | 'fail';

/**
 * Counts and records bad rows of one pass over a file. With `skip` each bad row is appended to the
 * dead-letter file as `{"line": n, "reason": "...", "text": "..."}` (the file is created on the first bad
 * row of a pass); with `fail` the first bad row throws an error naming the file and line.
 */
export class BadRowLog {
  /** Number of bad rows seen in this pass. */
  count = 0;
  /** Line numbers of the bad rows (the first 1,000). */
  readonly lines: number[] = [];
  private opened = false;

  constructor(
    private readonly file: string,
    private readonly policy: BadRowPolicy,
    private readonly deadLetter: string | undefined,
    private readonly events?: EventSink,
  ) {}

  /** Records a bad row; throws under policy `fail`. */
  add(line: number, reason: string, text: string): void {
    if (this.policy === 'fail') throw new Error(`${this.file}:${line}: ${reason} (badRows policy is "fail")`);
    this.count++;
    if (this.lines.length < 1000) this.lines.push(line);
    if (this.deadLetter) {
      const entry = `${JSON.stringify({ file: this.file, line, reason, text: text.slice(0, 10_000) })}\n`;
      if (!this.opened) {
        // a new pass replaces the previous pass's file whole (never truncates it in place), then appends
        const tmp = `${this.deadLetter}.tmp-${process.pid}`;
        writeFileSync(tmp, entry);
        renameSync(tmp, this.deadLetter);
      } else appendFileSync(this.deadLetter, entry);
      this.opened = true;
    }
  }

  /** Emits one `warning` event summarising the pass, if anything was skipped. */
  report(): void {
    if (this.count === 0 || !this.events) return;
    const shown = this.lines.slice(0, 10).join(', ');
    const more = this.count > 10 ? ', …' : '';
    const where = this.deadLetter ? `; rejected rows written to ${this.deadLetter}` : '';
    this.events.emit({
      type: 'warning',
      message: `${this.file}: skipped ${this.count} bad row(s) at line(s) ${shown}${more}${where}`,
      skippedRows: this.count,
    });
  }
}
