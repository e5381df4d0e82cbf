import { classesOf, type BcnetDense, type BcnetModel } from "../format/bcnet.js";
import { scaleMeanOf } from "../format/preprocessing.js";
import { preprocessRows } from "../format/preprocessSteps.js";
import { convReference, maxPoolReference } from "./referenceConv.js";

/**
 * The specification of inference on a .bcnet model, in plain loops (the wasm engine is tested
 * against it; it is also the fallback where WebAssembly SIMD is missing):
 *   x' = the model's preprocessing of x                     (preprocess, below)
 * then per layer: dense (below), conv and maxpool (referenceConv.ts); images are NHWC and a
 * dense layer after them reads the image flattened in that order.
 * `features` are rows of x' (already preprocessed); the result is [count, classes].
 */
export function forwardReference(model: BcnetModel, features: ArrayLike<number>, count: number): Float32Array {
  const classes = classesOf(model);
  const out = new Float32Array(count * classes);
  for (let m = 0; m < count; m++) {
    let h: Float32Array = Float32Array.from({ length: model.inputs }, (_, k) => features[m * model.inputs + k]);
    for (const layer of model.layers) {
      h =
        layer.kind === "dense"
          ? denseReference(layer, h)
          : layer.kind === "conv"
            ? convReference(layer, h)
            : maxPoolReference(layer, h);
    }
    out.set(h, m * classes);
  }
  return out;
}

/**
 * A binary dense layer on one example h [inputs]:
 *   s[n] = sum_k (bit(k, n) ? +h[k] : -h[k])                (float64 sum, no multiplication)
 *   y[n] = act(scale[n] * s[n] + shift[n])                  (rounded to float32)
 */
export function denseReference(layer: BcnetDense, h: Float32Array): Float32Array {
  const rb = Math.ceil(layer.inputs / 8);
  const y = new Float32Array(layer.units);
  for (let n = 0; n < layer.units; n++) {
    let s = 0;
    for (let k = 0; k < layer.inputs; k++) s += layer.bits[n * rb + (k >> 3)] & (1 << (k & 7)) ? h[k] : -h[k];
    const v = layer.scale[n] * s + layer.shift[n];
    y[n] = layer.activation === "relu" ? (v <= 0 ? 0 : v) : v;
  }
  return y;
}

/**
 * `count` rows of raw inputs (from row `start`) through the model's preprocessing, as
 * BinaryClassifier.predict prepares them: the steps [scale][, subtractMean] as one
 * x'[m, k] = x[m, k] * inputScale - mean[k] in float64, rounded once to float32 (the engines'
 * fast path, and the arithmetic of format versions 1 and 2), any other steps one after another
 * (src/format/preprocessSteps.ts, training's own arithmetic).
 */
export function preprocess(model: BcnetModel, raw: ArrayLike<number>, count: number, start = 0): Float32Array {
  const folded = scaleMeanOf(model.preprocessing, model.inputs);
  if (!folded) return preprocessRows(model.preprocessing, raw, count, start);
  const { inputScale, mean } = folded;
  const K = model.inputs,
    from = start * K;
  const x = new Float32Array(count * K);
  for (let i = 0; i < x.length; i++) x[i] = raw[from + i] * inputScale - mean[i % K];
  return x;
}
