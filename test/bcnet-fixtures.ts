import { Xoshiro128 } from "../src/core/rng.js";
import { rowBytes, type BcnetModel } from "../src/format/bcnet.js";

/**
 * A random .bcnet model with the given layer sizes ([inputs, ...units]): random sign bits
 * (padding bits 0), scales in [0.5, 1.5) / fan-in, shifts in [-0.5, 0.5), ReLU on hidden
 * layers, preprocessing 1/255 and a random mean in [0, 0.5).
 */
export function randomModel(sizes: number[], seed = 1): BcnetModel {
  const rng = new Xoshiro128(seed);
  const layers = sizes.slice(1).map((units, i) => {
    const inputs = sizes[i], rb = rowBytes(inputs);
    const bits = new Uint8Array(units * rb);
    for (let n = 0; n < units; n++) for (let k = 0; k < inputs; k++) if (rng.next() < 0.5) bits[n * rb + (k >> 3)] |= 1 << (k & 7);
    return {
      inputs, units, activation: (i < sizes.length - 2 ? "relu" : "identity") as "relu" | "identity", bits,
      scale: Float32Array.from({ length: units }, () => rng.uniform(0.5, 1.5) / Math.sqrt(inputs)),
      shift: Float32Array.from({ length: units }, () => rng.uniform(-0.5, 0.5)),
    };
  });
  return {
    inputs: sizes[0],
    preprocess: { inputScale: Math.fround(1 / 255), mean: Float32Array.from({ length: sizes[0] }, () => rng.uniform(0, 0.5)) },
    layers,
    info: { producer: "test", seed },
  };
}

/** `count` rows of random raw inputs 0..255 (integers, like pixels). */
export function randomPixels(count: number, inputs: number, seed = 2): Uint8Array {
  const rng = new Xoshiro128(seed);
  return Uint8Array.from({ length: count * inputs }, () => Math.floor(rng.next() * 256));
}
