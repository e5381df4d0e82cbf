/**
 * Seeded randomness. Two generators:
 *
 * - `counterUniform(key, index)`: a counter-based generator (a stateless hash of a 32-bit key
 *   and an element index), used by kernels (stochastic binarization, dropout). Every backend
 *   computes the same bits for the same (key, index), in any order and on any thread, so
 *   backends agree exactly and a run is reproducible from its seed.
 * - `Xoshiro128`: a small sequential generator for the host (weight init, shuffling).
 */

/** Murmur3's 32-bit finalizer: a bijective avalanche mix of a uint32. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The per-call key of a kernel's random stream: mixes the run seed and a call counter. */
export function streamKey(seed: number, counter: number): number {
  return fmix32((fmix32(seed >>> 0) ^ Math.imul(counter >>> 0, 0x9e3779b9)) >>> 0);
}

/**
 * Uniform in [0, 1) with 24 bits, for element `index` of the stream `key`:
 * u = (fmix32(key ^ index * 0x9E3779B1) >>> 8) / 2^24.
 */
export function counterUniform(key: number, index: number): number {
  return (fmix32((key ^ Math.imul(index, 0x9e3779b1)) >>> 0) >>> 8) * (1 / 16777216);
}

/** xoshiro128** (Blackman & Vigna), seeded through splitmix32. */
export class Xoshiro128 {
  private s = new Uint32Array(4);
  constructor(seed: number) {
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      this.s[i] = fmix32(x);
    }
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }
  /** The generator's state, for checkpoints. */
  get state(): number[] {
    return Array.from(this.s);
  }
  set state(v: number[]) {
    this.s.set(v);
  }
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }
  /** Uniform in [0, 1) with 32 bits. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  /** Fisher-Yates shuffle in place. */
  shuffle<T>(a: { length: number; [i: number]: T }): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
