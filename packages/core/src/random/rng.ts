/**
 * Seeded pseudo-random generator (xoshiro128**) with a serialisable state.
 *
 * Every source of randomness in Engram derives from the pipeline's `seed` through `Rng.derive(label)`,
 * so two runs with the same seed draw the same numbers, and a checkpoint can store `state()` and resume
 * the exact sequence.
 */
export class Rng {
  private s: Uint32Array;

  constructor(seed: number | readonly number[]) {
    this.s = new Uint32Array(4);
    if (typeof seed === 'number') {
      let z = (seed >>> 0) ^ 0x9e3779b9;
      for (let i = 0; i < 4; i++) {
        z = (z + 0x6d2b79f5) >>> 0;
        let t = z;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        this.s[i] = (t ^ (t >>> 14)) >>> 0;
      }
      if (this.s.every((v) => v === 0)) this.s[0] = 1;
    } else {
      if (seed.length !== 4) throw new Error('Rng state must have 4 words');
      this.s.set(seed.map((v) => v >>> 0));
    }
  }

  /** A new independent generator for `label`, a pure function of this generator's seed state and the label. */
  derive(label: string): Rng {
    let h = 2166136261;
    for (let i = 0; i < label.length; i++) {
      h ^= label.charCodeAt(i);
      h = Math.imul(h, 16777619) >>> 0;
    }
    return new Rng(((this.s[0] as number) ^ h ^ Math.imul(this.s[1] as number, 31)) >>> 0);
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1] as number, 5), 7), 9) >>> 0;
    const t = ((s[1] as number) << 9) >>> 0;
    s[2] = (s[2] as number) ^ (s[0] as number);
    s[3] = (s[3] as number) ^ (s[1] as number);
    s[1] = (s[1] as number) ^ s[2];
    s[0] = (s[0] as number) ^ s[3];
    s[2] = s[2] ^ t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform float in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal sample (Box–Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** A seed for a tfjs initializer or op that takes one. */
  tfSeed(): number {
    return this.nextUint32() % 2147483647;
  }

  /** Fisher–Yates shuffle of `0..n-1`. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i] as number;
      p[i] = p[j] as number;
      p[j] = t;
    }
    return p;
  }

  /** The generator's state, for checkpoints. */
  state(): number[] {
    return Array.from(this.s);
  }

  /** Restores a state from `state()`. */
  restore(state: readonly number[]): void {
    this.s = new Rng(state).s;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
