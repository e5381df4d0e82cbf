import { Xoshiro128, fmix32 } from "../core/rng.js";

/**
 * A labelled set in host memory: x is n rows of `features` floats, y the class of each row.
 * A set too large to hold preprocessed (SVHN) gives `example` instead, which writes example i's
 * features at out[offset..]; its x is then empty.
 */
export interface LabeledSet {
  x: Float32Array;
  y: Float32Array;
  n: number;
  features: number;
  example?: (i: number, out: Float32Array, offset: number) => void;
}

/**
 * The order of the training set in `epoch`: a Fisher-Yates shuffle from a generator seeded by
 * (seed, epoch) alone, so an epoch's order does not depend on what ran before (exact resume).
 */
export function epochOrder(n: number, seed: number, epoch: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  new Xoshiro128(fmix32((seed ^ Math.imul(epoch + 1, 0x27d4eb2d)) >>> 0)).shuffle(order);
  return order;
}

/** Copies rows `order[start..start+rows)` of `set` into the host batch buffers. */
export function gatherBatch(
  set: LabeledSet,
  order: ArrayLike<number> | null,
  start: number,
  rows: number,
  x: Float32Array,
  y: Float32Array,
): void {
  const f = set.features;
  for (let r = 0; r < rows; r++) {
    const i = order ? order[start + r] : start + r;
    if (set.example) set.example(i, x, r * f);
    else x.set(set.x.subarray(i * f, (i + 1) * f), r * f);
    y[r] = set.y[i];
  }
}
