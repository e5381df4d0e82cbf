import { ShapeError } from "../core/errors.js";
import { shapeToString, type Tensor } from "../core/tensor.js";
import { convOutputSize, type KernelArgs, type KernelName, type Pair } from "./contract.js";

/**
 * Shape checks shared by every backend: `Backend.run` calls this before dispatching, so a
 * wrong shape is a ShapeError that names the kernel, the argument, and both shapes.
 */
export function validateKernelArgs<K extends KernelName>(kernel: K, args: KernelArgs[K]): void {
  VALIDATORS[kernel](args as never);
}

type Validators = { [K in KernelName]: (args: KernelArgs[K]) => void };

function fail(kernel: string, what: string, expected: string, t: Tensor): never {
  throw new ShapeError(`${kernel}: ${what} must have shape ${expected}, found ${shapeToString(t.shape)}`);
}

function matrix(kernel: string, name: string, t: Tensor): [number, number] {
  if (t.shape.length !== 2) fail(kernel, name, "[rows, cols]", t);
  return [t.shape[0], t.shape[1]];
}

function vector(kernel: string, name: string, t: Tensor, n: number): void {
  if (t.size !== n) fail(kernel, name, `[${n}]`, t);
}

function sameSize(kernel: string, name: string, t: Tensor, ref: Tensor): void {
  if (t.size !== ref.size) fail(kernel, name, `${shapeToString(ref.shape)} (${ref.size} elements)`, t);
}

/** A 4-D NHWC tensor's dimensions. */
function image(kernel: string, name: string, t: Tensor): [number, number, number, number] {
  if (t.shape.length !== 4) fail(kernel, name, "[N, H, W, C] (NHWC)", t);
  return [t.shape[0], t.shape[1], t.shape[2], t.shape[3]];
}

/** Checks a [rows, cols] attribute: integers >= min. */
function pair(kernel: string, name: string, p: Pair, min: number): void {
  if (!(Array.isArray(p) && p.length === 2 && p.every((v) => Number.isInteger(v) && v >= min))) {
    throw new ShapeError(
      `${kernel}: ${name} must be a pair [rows, cols] of integers >= ${min}, found ${JSON.stringify(p)}`,
    );
  }
}

/**
 * The shared checks of the three convolution kernels: x [N,H,W,Cin], w [kh,kw,Cin,Cout] and
 * y (out, or dy) [N,Ho,Wo,Cout] with Ho, Wo from the geometry.
 */
function conv(
  kernel: string,
  x: Tensor,
  xName: string,
  w: Tensor,
  wName: string,
  y: Tensor,
  yName: string,
  stride: Pair,
  pad: Pair,
): void {
  pair(kernel, "stride", stride, 1);
  pair(kernel, "pad", pad, 0);
  const [N, H, W, C] = image(kernel, xName, x);
  if (w.shape.length !== 4 || w.shape[2] !== C)
    fail(kernel, wName, `[kh, kw, ${C}, Cout] (Cin = ${xName}'s channels)`, w);
  const [kh, kw, , Co] = w.shape;
  if (H + 2 * pad[0] < kh || W + 2 * pad[1] < kw) {
    throw new ShapeError(
      `${kernel}: the ${kh}x${kw} kernel is larger than the padded ${H + 2 * pad[0]}x${W + 2 * pad[1]} input (${xName} ${shapeToString(x.shape)}, pad [${pad}])`,
    );
  }
  const Ho = convOutputSize(H, kh, stride[0], pad[0]),
    Wo = convOutputSize(W, kw, stride[1], pad[1]);
  const [n, h, ww, c] = image(kernel, yName, y);
  if (n !== N || h !== Ho || ww !== Wo || c !== Co)
    fail(kernel, yName, `[${N}, ${Ho}, ${Wo}, ${Co}] (stride [${stride}], pad [${pad}])`, y);
}

/** The shared checks of the pooling kernels: x [N,H,W,C], y [N,Ho,Wo,C]. */
function pool(kernel: string, x: Tensor, y: Tensor, yName: string, window: Pair, stride: Pair): void {
  pair(kernel, "window", window, 1);
  pair(kernel, "stride", stride, 1);
  const [N, H, W, C] = image(kernel, "x", x);
  if (H < window[0] || W < window[1])
    throw new ShapeError(`${kernel}: the ${window[0]}x${window[1]} window is larger than x ${shapeToString(x.shape)}`);
  const Ho = convOutputSize(H, window[0], stride[0], 0),
    Wo = convOutputSize(W, window[1], stride[1], 0);
  const [n, h, w, c] = image(kernel, yName, y);
  if (n !== N || h !== Ho || w !== Wo || c !== C)
    fail(kernel, yName, `[${N}, ${Ho}, ${Wo}, ${C}] (window [${window}], stride [${stride}])`, y);
}

/** Channels = last axis; rows = everything else. */
function rowsChannels(t: Tensor): [number, number] {
  const c = t.shape[t.shape.length - 1] ?? 1;
  return [t.size / c, c];
}

/** The tensor an option requires (a ShapeError naming it when absent). */
function present(kernel: string, name: string, t: Tensor | undefined): Tensor {
  if (!t) throw new ShapeError(`${kernel}: ${name} must be given, found none`);
  return t;
}

/** The batch-norm checks: each named tensor holds one value per channel of x (its last axis). */
function perChannel(kernel: string, x: Tensor, vectors: Record<string, Tensor>): void {
  const [, c] = rowsChannels(x);
  for (const [name, t] of Object.entries(vectors)) vector(kernel, name, t, c);
}

const VALIDATORS: Validators = {
  matmul({ a, b, out, transA, transB }) {
    const [ar, ac] = matrix("matmul", "a", a);
    const [br, bc] = matrix("matmul", "b", b);
    const [M, K] = transA ? [ac, ar] : [ar, ac];
    const [K2, N] = transB ? [bc, br] : [br, bc];
    if (K !== K2) {
      throw new ShapeError(
        `matmul: inner dimensions differ: op(a) is [${M}, ${K}], op(b) is [${K2}, ${N}] ` +
          `(a ${shapeToString(a.shape)} transA=${transA}, b ${shapeToString(b.shape)} transB=${transB})`,
      );
    }
    const [or, oc] = matrix("matmul", "out", out);
    if (or !== M || oc !== N) fail("matmul", "out", `[${M}, ${N}]`, out);
  },
  binaryMatmul({ a, wb, out, transB }) {
    VALIDATORS.matmul({ a, b: wb, out, transA: false, transB, accumulate: false });
  },
  biasAdd({ x, bias, out }) {
    const [, n] = matrix("biasAdd", "x", x);
    vector("biasAdd", "bias", bias, n);
    sameSize("biasAdd", "out", out, x);
  },
  columnSum({ x, out }) {
    const [, n] = matrix("columnSum", "x", x);
    vector("columnSum", "out", out, n);
  },
  batchNormTrain({ x, gamma, beta, out, mean, variance, runningMean, runningScale }) {
    perChannel("batchNormTrain", x, { gamma, beta, mean, variance, runningMean, runningScale });
    sameSize("batchNormTrain", "out", out, x);
  },
  batchNormInfer({ x, gamma, beta, out, runningMean, runningScale }) {
    perChannel("batchNormInfer", x, { gamma, beta, runningMean, runningScale });
    sameSize("batchNormInfer", "out", out, x);
  },
  batchNormBackward({ x, dy, gamma, mean, variance, dx, dgamma, dbeta, relu, beta }) {
    perChannel("batchNormBackward", x, { gamma, mean, variance, dgamma, dbeta });
    if (relu) perChannel("batchNormBackward", x, { beta: present("batchNormBackward", "beta (with relu)", beta) });
    sameSize("batchNormBackward", "dy", dy, x);
    sameSize("batchNormBackward", "dx", dx, x);
  },
  relu({ x, out }) {
    sameSize("relu", "out", out, x);
  },
  reluBackward({ x, dy, dx }) {
    sameSize("reluBackward", "dy", dy, x);
    sameSize("reluBackward", "dx", dx, x);
  },
  dropout({ x, out, mask, p }) {
    sameSize("dropout", "out", out, x);
    sameSize("dropout", "mask", mask, x);
    if (!(p >= 0 && p < 1)) throw new ShapeError(`dropout: p must be in [0, 1), found ${p}`);
  },
  multiply({ a, b, out }) {
    sameSize("multiply", "b", b, a);
    sameSize("multiply", "out", out, a);
  },
  squareHingeLoss({ logits, labels, grad, metrics }) {
    const [m] = matrix("squareHingeLoss", "logits", logits);
    vector("squareHingeLoss", "labels", labels, m);
    if (grad) sameSize("squareHingeLoss", "grad", grad, logits);
    vector("squareHingeLoss", "metrics", metrics, 2);
  },
  binarize({ w, out, H }) {
    sameSize("binarize", "out", out, w);
    if (!(H > 0)) throw new ShapeError(`binarize: H must be > 0, found ${H}`);
  },
  adam({ param, grad, m, v, t }) {
    sameSize("adam", "grad", grad, param);
    sameSize("adam", "m", m, param);
    sameSize("adam", "v", v, param);
    if (!(Number.isInteger(t) && t >= 1)) throw new ShapeError(`adam: step t must be an integer >= 1, found ${t}`);
  },
  conv2d({ x, w, out, stride, pad }) {
    conv("conv2d", x, "x", w, "w", out, "out", stride, pad);
  },
  conv2dBackwardInput({ dy, w, dx, stride, pad }) {
    conv("conv2dBackwardInput", dx, "dx", w, "w", dy, "dy", stride, pad);
  },
  conv2dBackwardFilter({ x, dy, dw, stride, pad }) {
    conv("conv2dBackwardFilter", x, "x", dw, "dw", dy, "dy", stride, pad);
  },
  maxPool({ x, out, window, stride }) {
    pool("maxPool", x, out, "out", window, stride);
  },
  maxPoolBackward({ x, dy, dx, window, stride }) {
    pool("maxPoolBackward", x, dy, "dy", window, stride);
    sameSize("maxPoolBackward", "dx", dx, x);
  },
  fill() {},
  copy({ x, out }) {
    sameSize("copy", "out", out, x);
  },
};
