import type * as TF from "@tensorflow/tfjs";
import { fanIn, fanOut } from "../../src/format/bcnet.js";
import { unpackSigns } from "../../src/format/pack.js";
import { scaleMeanOf } from "../../src/format/preprocessing.js";
import type { InferNetwork, InferRunner } from "../infer-net.js";
import { PeerUnavailable } from "../runner.js";
import { packageVersion } from "./version.js";
import { loadTfjs } from "./tfjs-load.js";

/**
 * Peer: a .bcnet network's inference in TensorFlow.js with its wasm backend (XNNPACK, one thread
 * in Node): the preprocessing x * inputScale - mean, then per layer tf.conv2d / tf.matMul by the
 * weights +-1 as float32 (HWIO / [inputs, units]), the max pooling before the folded batch norm
 * (scale, shift: the model's own), ReLU; max-pooling layers as tf.maxPool; NHWC throughout, as
 * the model (so a flatten is a reshape).
 */
export async function tfjsInferRunner(net: InferNetwork): Promise<InferRunner> {
  const tf = await loadTfjs("wasm");
  const model = net.model;
  const folded = scaleMeanOf(model.preprocessing, model.inputs);
  if (!folded) throw new PeerUnavailable("tfjs-wasm", "the model's preprocessing is not x * inputScale - mean");
  const mean = tf.tensor1d(folded.mean);
  const weights = model.layers.map((l) => {
    if (l.kind === "maxpool") return null;
    const w = unpackSigns(l.bits, fanIn(l), fanOut(l), 1); // [k, n]: HWIO for a convolution (k = (ki kw + kj) C + c)
    return {
      w:
        l.kind === "conv"
          ? tf.tensor4d(w, [l.kernel[0], l.kernel[1], l.input.channels, l.filters])
          : tf.tensor2d(w, [l.inputs, l.units]),
      scale: tf.tensor1d(l.scale),
      shift: tf.tensor1d(l.shift),
    };
  });
  const forward = (x: TF.Tensor2D, count: number): TF.Tensor =>
    tf.tidy(() => {
      let h: TF.Tensor = tf.sub(tf.mul(x, folded.inputScale), mean);
      if (model.image) h = tf.reshape(h, [count, model.image.height, model.image.width, model.image.channels]);
      model.layers.forEach((l, i) => {
        if (l.kind === "maxpool") {
          h = tf.maxPool(h as TF.Tensor4D, [...l.window], [...l.stride], "valid");
          return;
        }
        const p = weights[i]!;
        if (l.kind === "conv") {
          h = tf.conv2d(
            h as TF.Tensor4D,
            p.w as TF.Tensor4D,
            [...l.stride],
            [
              [0, 0],
              [l.pad[0], l.pad[0]],
              [l.pad[1], l.pad[1]],
              [0, 0],
            ],
          );
          if (l.pool) h = tf.maxPool(h as TF.Tensor4D, [...l.pool.window], [...l.pool.stride], "valid");
        } else {
          h = tf.matMul(tf.reshape(h, [count, l.inputs]) as TF.Tensor2D, p.w as TF.Tensor2D);
        }
        h = tf.add(tf.mul(h, p.scale), p.shift);
        if (l.activation === "relu") h = tf.relu(h);
      });
      return h;
    });
  const pixels = Float32Array.from(net.pixels);
  const simd = tf.env().getBool("WASM_HAS_SIMD_SUPPORT") ? "SIMD" : "no SIMD";
  return {
    name: "tfjs (wasm)",
    description: `@tensorflow/tfjs-backend-wasm ${packageVersion("@tensorflow/tfjs-backend-wasm")}, ${simd}, 1 thread, conv2d/matMul by float32 weights +-1`,
    predict: async (count) => {
      const x = tf.tensor2d(pixels.subarray(0, count * model.inputs), [count, model.inputs]);
      const y = forward(x, count);
      const scores = (await y.data()) as Float32Array;
      tf.dispose([x, y]);
      return scores;
    },
    close: async () => {
      tf.dispose([mean, ...weights.flatMap((p) => (p ? [p.w, p.scale, p.shift] : []))]);
    },
  };
}
