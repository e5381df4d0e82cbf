/**
 * Kernel arguments that several tests build the same way: the kernel cases of the conformance
 * tests (test/kernel-cases.ts), the wasm backend's browser page (test/browser/wasm-cases.ts) and
 * the reference backend's hand-checked values (test/reference-kernels.test.ts). Plain code: no
 * Node.js module, no test framework (the browser page bundles it).
 */
import type { Tensor } from "../src/core/tensor.js";
import type { KernelArgs } from "../src/kernels/contract.js";

/** The step-dependent settings of an Adam call; beta1, beta2 and eps are the paper's (0.9, 0.999, 1e-8). */
export interface AdamStep {
  lr: number;
  t: number;
  lrScale: number;
  clip: number;
}

/** adam's arguments on these tensors: the step's lr, t, lrScale and clip with beta1 = 0.9, beta2 = 0.999, eps = 1e-8. */
export function adamArgs(
  { param, grad, m, v }: Record<"param" | "grad" | "m" | "v", Tensor>,
  { lr, t, lrScale, clip }: AdamStep,
): KernelArgs["adam"] {
  return { param, grad, m, v, lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, t, lrScale, clip };
}

/** The operand layout of a matrix product as the cases name it: "A.B", "A^T.B^T +=", ... */
export function matmulForm(transA: boolean, transB: boolean, accumulate: boolean): string {
  return `${transA ? "A^T" : "A"}.${transB ? "B^T" : "B"}${accumulate ? " +=" : ""}`;
}

/** A product's operand shapes: op(a) is [M, K], op(b) is [K, N], out is [M, N]. */
export function matmulShapes(
  M: number,
  K: number,
  N: number,
  transA: boolean,
  transB: boolean,
): Record<"a" | "b" | "out", number[]> {
  return { a: transA ? [K, M] : [M, K], b: transB ? [N, K] : [K, N], out: [M, N] };
}
