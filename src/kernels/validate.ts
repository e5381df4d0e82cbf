import { ShapeError } from "../core/errors.js";
import { shapeToString, type Tensor } from "../core/tensor.js";
import type { KernelArgs, KernelName } from "./contract.js";

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

/** Channels = last axis; rows = everything else. */
function rowsChannels(t: Tensor): [number, number] {
  const c = t.shape[t.shape.length - 1] ?? 1;
  return [t.size / c, c];
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
    const [, c] = rowsChannels(x);
    for (const [name, t] of [["gamma", gamma], ["beta", beta], ["mean", mean], ["variance", variance],
      ["runningMean", runningMean], ["runningScale", runningScale]] as const) vector("batchNormTrain", name, t, c);
    sameSize("batchNormTrain", "out", out, x);
  },
  batchNormInfer({ x, gamma, beta, out, runningMean, runningScale }) {
    const [, c] = rowsChannels(x);
    for (const [name, t] of [["gamma", gamma], ["beta", beta], ["runningMean", runningMean],
      ["runningScale", runningScale]] as const) vector("batchNormInfer", name, t, c);
    sameSize("batchNormInfer", "out", out, x);
  },
  batchNormBackward({ x, dy, gamma, mean, variance, dx, dgamma, dbeta }) {
    const [, c] = rowsChannels(x);
    for (const [name, t] of [["gamma", gamma], ["mean", mean], ["variance", variance], ["dgamma", dgamma],
      ["dbeta", dbeta]] as const) vector("batchNormBackward", name, t, c);
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
  fill() {},
  copy({ x, out }) {
    sameSize("copy", "out", out, x);
  },
};
