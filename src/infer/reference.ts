import type { BcnetModel } from "../format/bcnet.js";

/**
 * The specification of inference on a .bcnet model, in plain loops (the wasm engine is tested
 * against it; it is also the fallback where WebAssembly SIMD is missing):
 *   x'[k] = x[k] * inputScale - mean[k]                    (preprocess)
 *   s[n] = sum_k (bit(k, n) ? +h[k] : -h[k])                (float64 sum, no multiplication)
 *   h'[n] = act(scale[n] * s[n] + shift[n])                 (rounded to float32)
 * `features` are rows of x' (already preprocessed); the result is [count, classes].
 */
export function forwardReference(model: BcnetModel, features: ArrayLike<number>, count: number): Float32Array {
  const classes = model.layers[model.layers.length - 1].units;
  const out = new Float32Array(count * classes);
  for (let m = 0; m < count; m++) {
    let h = Float32Array.from({ length: model.inputs }, (_, k) => features[m * model.inputs + k]);
    for (const layer of model.layers) {
      const rb = Math.ceil(layer.inputs / 8);
      const y = new Float32Array(layer.units);
      for (let n = 0; n < layer.units; n++) {
        let s = 0;
        for (let k = 0; k < layer.inputs; k++) s += layer.bits[n * rb + (k >> 3)] & (1 << (k & 7)) ? h[k] : -h[k];
        const v = layer.scale[n] * s + layer.shift[n];
        y[n] = layer.activation === "relu" ? (v <= 0 ? 0 : v) : v;
      }
      h = y;
    }
    out.set(h, m * classes);
  }
  return out;
}

/** x'[m, k] = x[m, k] * inputScale - mean[k], for `count` rows of raw inputs. */
export function preprocess(model: BcnetModel, raw: ArrayLike<number>, count: number): Float32Array {
  const { inputScale, mean } = model.preprocess;
  const K = model.inputs;
  const x = new Float32Array(count * K);
  for (let i = 0; i < x.length; i++) x[i] = raw[i] * inputScale - mean[i % K];
  return x;
}
