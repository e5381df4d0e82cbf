import type * as TF from "@tensorflow/tfjs";
import { parseArchitecture } from "../../src/nn/architecture.js";
import { weightLayers, type CnnInitialState, type CnnSpec } from "../cnn-spec.js";
import type { StepRunner } from "../runner.js";
import { loadTfjs } from "./tfjs-load.js";
import { tfjsTrainStep } from "./tfjs-train.js";

/**
 * Peer: the benchmarked CNN's training step (bench/cnn-spec.ts) in TensorFlow.js 4.x with its
 * cpu backend (plain JavaScript, one thread). Not its wasm backend: tfjs-backend-wasm has no
 * Conv2DBackpropFilter kernel, so a convolutional network cannot train on it
 * (bench/README.md; it also returns wrong MaxPoolGrad gradients for negative inputs).
 *
 * Binarization is an op with a straight-through gradient (tf.customGrad: value H sign(W), 0 ->
 * +H; gradient passed unchanged to W); convolutions, pooling, batch norm (standard, batch
 * statistics over N, H, W) and the loss use tfjs's own ops and gradients. Adam as in our kernel
 * contract (Lasagne's form), with the Glorot scale and the clip on W.
 */
export async function createTfjsCnnRunner(spec: CnnSpec, init: CnnInitialState): Promise<StepRunner> {
  const tf = await loadTfjs("cpu");
  const { H, bnEps } = spec;
  const M = init.batch;
  const binarize = tf.customGrad(((w: TF.Tensor, save: TF.GradSaveFunc) => {
    save([]);
    return { value: tf.mul(tf.neg(tf.step(tf.neg(w), -1)), H), gradFunc: (dy: TF.Tensor) => [dy] };
  }) as unknown as Parameters<typeof TF.customGrad>[0]) as (w: TF.Tensor) => TF.Tensor;

  const shapes = weightLayers(spec);
  const params = shapes.map((l, i) => {
    const units = l.shape[l.shape.length - 1];
    return {
      kind: l.kind,
      lrScale: l.lrScale,
      w: tf.variable(tf.tensor(init.weights[i], l.shape), true, `w${i}`),
      gamma: tf.variable(tf.ones([units]), true, `gamma${i}`),
      beta: tf.variable(tf.zeros([units]), true, `beta${i}`),
      runningMean: tf.variable(tf.zeros([units]), false),
      runningVar: tf.variable(tf.ones([units]), false),
    };
  });
  const [h0, w0, c0] = spec.input;
  const x = tf.tensor4d(init.x, [M, h0, w0, c0]);
  const targets = tf.tensor2d(init.targets, [M, spec.classes]);
  const layers = parseArchitecture(spec.architecture);

  /** Per batch norm: the batch mean and variance (kept) and the number of values per channel. */
  const lossFn = (stats: TF.Tensor[], counts: number[]): TF.Scalar => {
    let h: TF.Tensor = x,
      k = 0,
      bn = 0;
    for (const l of layers) {
      switch (l.kind) {
        case "conv":
          h = tf.conv2d(
            h as TF.Tensor4D,
            binarize(params[k++].w) as TF.Tensor4D,
            [l.stride[0], l.stride[1]],
            [
              [0, 0],
              [l.pad[0], l.pad[0]],
              [l.pad[1], l.pad[1]],
              [0, 0],
            ],
          );
          break;
        case "maxpool":
          h = tf.maxPool(h as TF.Tensor4D, [l.window[0], l.window[1]], [l.stride[0], l.stride[1]], "valid");
          break;
        case "flatten":
          h = tf.reshape(h, [M, -1]);
          break;
        case "dense":
          h = tf.matMul(h as TF.Tensor2D, binarize(params[k++].w) as TF.Tensor2D);
          break;
        case "batchnorm": {
          const p = params[bn++];
          const { mean, variance } = tf.moments(h, h.rank === 4 ? [0, 1, 2] : [0]);
          stats.push(tf.keep(mean), tf.keep(variance));
          counts.push(h.size / p.gamma.size);
          h = tf.batchNorm(h, mean, variance, p.beta, p.gamma, bnEps);
          break;
        }
        case "relu":
          h = tf.relu(h);
          break;
        case "dropout":
          throw new Error("the benchmarked CNN has no dropout");
      }
    }
    return tf.mean(tf.square(tf.relu(tf.sub(1, tf.mul(targets, h))))) as TF.Scalar;
  };

  const step = tfjsTrainStep(tf, params, spec, lossFn);

  return {
    name: "tfjs-cpu",
    description: `@tensorflow/tfjs ${tf.version.tfjs}, cpu backend (plain JavaScript, 1 thread; its wasm backend cannot train convolutions: no Conv2DBackpropFilter), batch ${M}`,
    sharedStart: true,
    step,
    close: async () => {
      tf.disposeVariables();
      tf.dispose([x, targets]);
    },
  };
}
