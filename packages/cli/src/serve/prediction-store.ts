/** One stored prediction, kept so that its label can arrive later. */
export interface StoredPrediction {
  readonly id: string;
  /** The raw inputs of the instance (before preprocessing), as the training record will hold them. */
  readonly x: Float32Array;
  readonly label: number;
  readonly version: number;
  /** The shadow version's answer for it (`serve.shadow`), scored when the label arrives. */
  readonly shadow?: { readonly label: number; readonly version: number };
  /** `Date.now()` when stored. */
  readonly at: number;
}

/** Why {@link PredictionStore.take} found nothing. */
export type MissingReason = 'unknown' | 'expired' | 'evicted' | 'already-labelled';

/** Options of a {@link PredictionStore}. */
export interface PredictionStoreOptions {
  /** Feedback accepted for this long after the prediction. */
  readonly ttlMs: number;
  /** Bytes of inputs kept; the oldest entries are evicted first beyond it. */
  readonly maxBytes: number;
  /** Clock (tests). */
  readonly now?: () => number;
}

// Ids of entries gone (expired, evicted, labelled) are remembered up to this many, to say why in a 404
// (≈ 100 bytes each with flat ids: at most ≈ 10 MB besides `maxBytes`).
const GONE_MEMORY = 100_000;
/**
 * Heap bytes counted per stored prediction besides its inputs: the typed array's objects, the entry, its
 * map slot and its (flat) id. Measured on Node 20: 600–655 bytes for inputs of 1–784 floats; 96 had been
 * assumed, which let a store of small inputs take six times its `maxBytes`. The store's test checks that
 * the count is not below the heap really used.
 */
export const ENTRY_OVERHEAD = 640;
/** Bytes a shadow answer adds to an entry (its object): measured ≈ 100. */
export const SHADOW_OVERHEAD = 128;

const costOf = (p: Pick<StoredPrediction, 'x' | 'shadow'>): number =>
  p.x.byteLength + ENTRY_OVERHEAD + (p.shadow ? SHADOW_OVERHEAD : 0);

/**
 * The predictions awaiting feedback: a bounded, time-limited map from prediction id to the inputs
 * and the answer. Insertion order is age order, so expiry and eviction drop from the front. Bytes
 * (inputs + a fixed per-entry overhead) never exceed `maxBytes`; counts of what left and why are kept
 * for /metrics.
 */
export class PredictionStore {
  private readonly entries = new Map<string, StoredPrediction>();
  private readonly gone = new Map<string, MissingReason>();
  private readonly now: () => number;
  /** Bytes held now. */
  bytes = 0;
  readonly counts = { stored: 0, labelled: 0, expired: 0, evicted: 0 };

  constructor(private readonly options: PredictionStoreOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Entries held now. */
  get size(): number {
    return this.entries.size;
  }

  /** Stores a prediction (evicting the oldest to stay under `maxBytes`); one larger than the whole store is not kept. */
  put(p: Omit<StoredPrediction, 'at'>): void {
    this.expire();
    const cost = costOf(p);
    if (cost > this.options.maxBytes) return;
    while (this.bytes + cost > this.options.maxBytes) {
      const oldest = this.entries.values().next().value;
      if (!oldest) break;
      this.drop(oldest, 'evicted');
    }
    this.entries.set(p.id, { ...p, at: this.now() });
    this.bytes += cost;
    this.counts.stored++;
  }

  /** Removes and returns the prediction `id`, or says why there is none. */
  take(id: string): StoredPrediction | { readonly missing: MissingReason } {
    this.expire();
    const p = this.entries.get(id);
    if (!p) return { missing: this.gone.get(id) ?? 'unknown' };
    this.drop(p, 'already-labelled');
    this.counts.labelled++;
    return p;
  }

  /** Drops entries older than the TTL. */
  expire(): void {
    const limit = this.now() - this.options.ttlMs;
    for (const p of this.entries.values()) {
      if (p.at > limit) break;
      this.drop(p, 'expired');
    }
  }

  private drop(p: StoredPrediction, why: MissingReason): void {
    this.entries.delete(p.id);
    this.bytes -= costOf(p);
    if (why === 'expired') this.counts.expired++;
    if (why === 'evicted') this.counts.evicted++;
    this.gone.set(p.id, why);
    if (this.gone.size > GONE_MEMORY) {
      const first = this.gone.keys().next().value;
      if (first !== undefined) this.gone.delete(first);
    }
  }
}
