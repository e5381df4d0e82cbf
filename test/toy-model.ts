/** A small labelled set and a small MLP for tests of the library's training (api, run folders). */
import * as bc from "../src/index.js";

/** Seeded uniform numbers in [0, 1) (a linear congruential generator: fixtures only). */
export function uniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

/** n examples of `features` values in 3 classes: class k has a bump at features [k*4, k*4+4), plus seeded noise. */
export function toySet(n: number, features = 16, seed = 1): bc.Dataset {
  const next = uniform(seed);
  const x = new Float32Array(n * features),
    y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    for (let f = 0; f < features; f++) x[i * features + f] = next() + (Math.floor(f / 4) === y[i] ? 1.5 : 0);
  }
  return bc.data.fromArrays({ x, y, shape: [features], classes: 3 });
}

/** 16 -> 32 (BN, ReLU) -> 3 (BN), det, seed 3, on the reference backend. */
export function smallMlp(opts: Partial<bc.SequentialOptions> = {}): bc.Model {
  return bc.sequential({
    inputShape: [16],
    backend: "reference",
    seed: 3,
    layers: [
      bc.layers.dense({ units: 32 }),
      bc.layers.batchNorm(),
      bc.layers.relu(),
      bc.layers.dense({ units: 3 }),
      bc.layers.batchNorm(),
    ],
    ...opts,
  });
}
