import type * as TF from "@tensorflow/tfjs";
import { PeerUnavailable, type StepRunner } from "../runner.js";
import { adamStepSize, layerShapes, wLrScale, type InitialState, type MlpSpec } from "../spec.js";

/** Loads tfjs with its wasm backend selected; throws PeerUnavailable when it is not installed. */
export async function loadTfjsWasm(): Promise<typeof TF> {
  let tf: typeof TF;
  try {
    tf = await import("@tensorflow/tfjs");
    await import("@tensorflow/tfjs-backend-wasm"); // registers the "wasm" backend
  } catch (e) {
    throw new PeerUnavailable("tfjs-wasm", `cannot load @tensorflow/tfjs-backend-wasm: ${String(e)}`,
      "npm install --save-dev @tensorflow/tfjs @tensorflow/tfjs-backend-wasm");
  }
  if (!(await tf.setBackend("wasm"))) throw new PeerUnavailable("tfjs-wasm", "tf.setBackend('wasm') failed");
  await tf.ready();
  return tf;
}

/**
 * Peer: the benchmarked training step (bench/spec.ts) in TensorFlow.js 4.x with its
 * WebAssembly backend (XNNPACK kernels). In Node, tfjs-backend-wasm runs on ONE thread
 * (WASM_HAS_MULTITHREAD_SUPPORT is false there), whatever --threads says.
 *
 * Written the way that makes tfjs fastest (docs/performance.md): its transposed matrix
 * products (A^T.B, A.B^T) are ~28x slower than plain ones, so the binary dense layer is a
 * `tf.customGrad` matmul whose backward pass transposes explicitly (tf.transpose) and then
 * calls a plain `tf.matMul`. A plain `optimizer.minimize` over `tf.matMul` is ~6x slower.
 * Adam is written out (Lasagne's form, as in our kernel contract) so that the losses agree
 * with jax-js and our engine to rounding.
 */
export async function createTfjsRunner(spec: MlpSpec, init: InitialState): Promise<StepRunner> {
  const tf = await loadTfjsWasm();
  const threads = tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT") ? "threads" : "1 thread";
  const simd = tf.env().getBool("WASM_HAS_SIMD_SUPPORT") ? "SIMD" : "no SIMD";

  const { H, bnEps, bnMomentum, beta1, beta2, adamEps } = spec;
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
  const trainable = layers.flatMap((L) => [L.w, L.gamma, L.beta]);
  const lrScale = new Map<TF.Variable, number>(layers.map((L) => [L.w, L.lrScale]));
  const adam = new Map(trainable.map((p) => [p.name, { m: tf.variable(tf.zerosLike(p), false), v: tf.variable(tf.zerosLike(p), false) }]));
  const x = tf.tensor2d(init.x, [M, spec.inputs]);
  const targets = tf.tensor2d(init.targets, [M, spec.classes]);
  let t = 0;

  /** Forward pass and loss; batch statistics are kept (tf.keep) for the running averages. */
  const lossFn = (stats: TF.Tensor[]): TF.Scalar => {
    let h: TF.Tensor = x;
    layers.forEach((L, i) => {
      const z = binaryMatMul(h, L.w);
      const { mean, variance } = tf.moments(z, 0);
      stats.push(tf.keep(mean), tf.keep(variance));
      const y = tf.batchNorm(z, mean, variance, L.beta, L.gamma, bnEps);
      h = i < layers.length - 1 ? tf.relu(y) : y;
    });
    // Square hinge: mean over batch x classes of max(0, 1 - t y)^2.
    return tf.mean(tf.square(tf.relu(tf.sub(1, tf.mul(targets, h))))) as TF.Scalar;
  };

  const step = async (): Promise<number> => {
    t++;
    const stats: TF.Tensor[] = [];
    const { value, grads } = tf.variableGrads(() => lossFn(stats), trainable);
    const a = adamStepSize(spec, t);
    tf.tidy(() => {
      for (const p of trainable) {
        const g = grads[p.name];
        const s = adam.get(p.name)!;
        s.m.assign(tf.add(tf.mul(s.m, beta1), tf.mul(g, 1 - beta1)));
        s.v.assign(tf.add(tf.mul(s.v, beta2), tf.mul(tf.square(g), 1 - beta2)));
        const scale = lrScale.get(p);
        const next = tf.sub(p, tf.div(tf.mul(s.m, a * (scale ?? 1)), tf.add(tf.sqrt(s.v), adamEps)));
        p.assign(scale !== undefined ? tf.clipByValue(next, -H, H) : next);
      }
      layers.forEach((L, i) => {
        const [mean, variance] = [stats[2 * i], stats[2 * i + 1]];
        L.runningMean.assign(tf.add(L.runningMean, tf.mul(tf.sub(mean, L.runningMean), bnMomentum)));
        const unbiased = tf.mul(variance, M / (M - 1));
        L.runningVar.assign(tf.add(L.runningVar, tf.mul(tf.sub(unbiased, L.runningVar), bnMomentum)));
      });
    });
    tf.dispose(grads);
    tf.dispose(stats);
    const loss = (await value.data())[0];
    value.dispose();
    return loss;
  };

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
