/** Acknowledged ids are spliced off the front of the ledger once this many have piled up. */
const COMPACT_AT = 4096;

/**
 * The ids a stream consumer queued for training and has not acknowledged yet, in the order queued.
 * Each gets an ordinal (0, 1, 2, … over the consumer's life) that travels with its sample as the
 * trainer's cursor, so {@link through} can say which ids the trainer has pulled. Acknowledged ids
 * leave from the front (a merge pass, then one splice per {@link COMPACT_AT} ids: `Array.shift()` per
 * id would be linear in the ledger's length).
 *
 * Duplicate detection ({@link has}) costs a set insert and delete per id, and plain `XREADGROUP >`
 * reads never deliver an entry twice: the set exists only between {@link startDedupe} and
 * {@link endDedupe} (a re-read of the pending list, a claim), or for good after {@link dedupeForGood}
 * (a lost connection: a group re-created from the start delivers entries again).
 */
export class StreamLedger {
  private readonly ids: string[] = [];
  private head = 0;
  /** Ordinal of `ids[head]`. */
  private base = 0;
  private known: Set<string> | undefined;
  private always = false;

  /** Ordinal of the first unacknowledged id (the next one appended when none is pending). */
  get firstOrdinal(): number {
    return this.base;
  }

  /** Whether no id is waiting for its acknowledgement. */
  get empty(): boolean {
    return this.head === this.ids.length;
  }

  /** Records a queued id; returns its ordinal. */
  append(id: string): number {
    this.known?.add(id);
    this.ids.push(id);
    return this.base + this.ids.length - 1 - this.head;
  }

  /** Whether `id` is queued and unacknowledged (only known while duplicates are looked for; false otherwise). */
  has(id: string): boolean {
    return this.known?.has(id) === true;
  }

  /** The unacknowledged ids with ordinals up to `last` (inclusive), oldest first. */
  through(last: number): string[] {
    return this.ids.slice(this.head, this.head + Math.max(0, last - this.base + 1));
  }

  /** Every unacknowledged id, oldest first. */
  unacked(): string[] {
    return this.ids.slice(this.head);
  }

  /**
   * Drops the front of the ledger that `acked` covers. The ledger's part of `acked` is a slice of
   * it in its order (what {@link through} returned), so one merge pass does, skipping ids the ledger
   * no longer (or never) held. Returns the last id dropped.
   */
  acknowledge(acked: readonly string[]): string | undefined {
    let last: string | undefined;
    for (const id of acked) {
      if (this.head >= this.ids.length) break;
      if (id !== this.ids[this.head]) continue;
      this.head++;
      this.base++;
      this.known?.delete(id);
      last = id;
    }
    if (this.head >= COMPACT_AT && this.head * 2 >= this.ids.length) {
      this.ids.splice(0, this.head);
      this.head = 0;
    }
    return last;
  }

  /** Starts looking for duplicates: builds the set of unacknowledged ids. */
  startDedupe(): void {
    this.known ??= new Set(this.unacked());
  }

  /** Stops looking for duplicates, unless {@link dedupeForGood} was called. */
  endDedupe(): void {
    if (!this.always) this.known = undefined;
  }

  /** Looks for duplicates from now on (the set is built at the next {@link startDedupe} if not yet). */
  dedupeForGood(): void {
    this.always = true;
  }
}
