import type * as TF from "@tensorflow/tfjs";
import type { StepRunner } from "../runner.js";
import { loadTfjs } from "./tfjs-load.js";
import { layerShapes, wLrScale, type InitialState, type MlpSpec } from "../spec.js";
import { tfjsTrainStep } from "./tfjs-train.js";

/**
 * Peer: the benchmarked training step (bench/spec.ts) in TensorFlow.js 4.x with its
 * WebAssembly backend (XNNPACK kernels). In Node, tfjs-backend-wasm runs on ONE thread
 * (WASM_HAS_MULTITHREAD_SUPPORT is false there), whatever --threads says.
 *
 * Written the way that makes tfjs fastest (docs/RESULTS.md, "Matrix products"): its transposed matrix
 * products (A^T.B, A.B^T) are ~28x slower than plain ones, so the binary dense layer is a
 * `tf.customGrad` matmul whose backward pass transposes explicitly (tf.transpose) and then
 * calls a plain `tf.matMul`. A plain `optimizer.minimize` over `tf.matMul` is ~6x slower.
 * Adam is written out (Lasagne's form, as in our kernel contract) so that the losses agree
 * with jax-js and our engine to rounding.
 */
export async function createTfjsRunner(spec: MlpSpec, init: InitialState): Promise<StepRunner> {
  const tf = await loadTfjs("wasm");
  const threads = tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT") ? "threads" : "1 thread";
  const simd = tf.env().getBool("WASM_HAS_SIMD_SUPPORT") ? "SIMD" : "no SIMD";

  const { H, bnEps } = spec;
  const M = spec.batch;

  // Wb = +H where W >= 0, else -H: -step(-W, -1) is +1 for W >= 0 and -1 for W < 0.
  const binarize = (w: TF.Tensor): TF.Tensor => tf.mul(tf.neg(tf.step(tf.neg(w), -1)), H);

  // out = x . sign(W) with the straight-through gradient, transposes made explicit:
  //   dx = dy . Wb^T  -> matMul(dy, transpose(Wb));  dW := dWb = x^T . dy -> matMul(transpose(x), dy)
  const binaryMatMul = tf.customGrad(((x: TF.Tensor2D, w: TF.Tensor2D, save: TF.GradSaveFunc) => {
    const wb = binarize(w) as TF.Tensor2D;
    save([x, wb]);
    return {
      value: tf.matMul(x, wb),
      gradFunc: (dy: TF.Tensor2D, [xs, wbs]: TF.Tensor[]) => [
        tf.matMul(dy, tf.transpose(wbs as TF.Tensor2D)),
        tf.matMul(tf.transpose(xs as TF.Tensor2D), dy),
      ],
    };
  }) as unknown as Parameters<typeof TF.customGrad>[0]) as (x: TF.Tensor, w: TF.Tensor) => TF.Tensor2D;

  const layers = layerShapes(spec).map(([k, n], l) => ({
    w: tf.variable(tf.tensor2d(init.weights[l], [k, n]), true, `w${l}`),
    gamma: tf.variable(tf.ones([n]), true, `gamma${l}`),
    beta: tf.variable(tf.zeros([n]), true, `beta${l}`),
    runningMean: tf.variable(tf.zeros([n]), false),
    runningVar: tf.variable(tf.ones([n]), false),
    lrScale: wLrScale(k, n),
  }));
  const x = tf.tensor2d(init.x, [M, spec.inputs]);
  const targets = tf.tensor2d(init.targets, [M, spec.classes]);

  /** Forward pass and loss; batch statistics are kept (tf.keep) for the running averages. */
  const lossFn = (stats: TF.Tensor[], counts: number[]): TF.Scalar => {
    let h: TF.Tensor = x;
    layers.forEach((L, i) => {
      const z = binaryMatMul(h, L.w);
      const { mean, variance } = tf.moments(z, 0);
      stats.push(tf.keep(mean), tf.keep(variance));
      counts.push(M);
      const y = tf.batchNorm(z, mean, variance, L.beta, L.gamma, bnEps);
      h = i < layers.length - 1 ? tf.relu(y) : y;
    });
    // Square hinge: mean over batch x classes of max(0, 1 - t y)^2.
    return tf.mean(tf.square(tf.relu(tf.sub(1, tf.mul(targets, h))))) as TF.Scalar;
  };
  const step = tfjsTrainStep(tf, layers, spec, lossFn);

  return {
    name: "tfjs-wasm",
    description: `@tensorflow/tfjs ${tf.version.tfjs}, wasm backend (XNNPACK, ${simd}, ${threads}: no threads in Node)`,
    sharedStart: true,
    step,
    close: async () => {
      tf.disposeVariables();
      tf.dispose([x, targets]);
    },
  };
}
