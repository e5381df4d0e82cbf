import type { Tensor } from "../../../core/tensor.js";
import type { WebGpuBackend } from "../index.js";
import { groups1d, program, type Program } from "../program.js";
import { ELEMENTWISE_WORKGROUP, REDUCE_COLS } from "../wgsl/common.js";

/**
 * The two launch shapes of the kernels outside the tiled product (wgsl/common.ts):
 * element-wise programs (elementwiseMain: one invocation per element i < P.n) and per-column
 * reductions over x[M, C] (columnMain: REDUCE_COLS columns per workgroup, c < P.C).
 */

/** The program maker of a launch shape: its `leading` parameters come before each program's own. */
function programWith(leading: Program["params"]) {
  return (key: string, params: Program["params"], tensors: Program["tensors"], body: () => string): Program =>
    program(key, [...leading, ...params], tensors, body);
}

/** An element-wise program: the element count `n`, then `params`. */
export const elementwiseProgram = programWith([["n", "u32"]]);

/** A per-column reduction over x[M, C]: M and C, then `params`. */
export const columnProgram = programWith([
  ["M", "u32"],
  ["C", "u32"],
]);

/** Dispatches an element-wise program over `n` elements with `params` after n; nothing when n = 0. */
export function dispatchElementwise(
  be: WebGpuBackend,
  prog: Program,
  tensors: readonly Tensor[],
  n: number,
  params: readonly number[] = [],
): void {
  if (n) be.dispatch(prog, tensors, [n, ...params], groups1d(n, ELEMENTWISE_WORKGROUP));
}

/**
 * Dispatches a per-column reduction over the `size` elements of x[M, C] (M = size / C) with
 * `params` after M and C; nothing when C = 0.
 */
export function dispatchColumns(
  be: WebGpuBackend,
  prog: Program,
  tensors: readonly Tensor[],
  size: number,
  C: number,
  params: readonly number[] = [],
): void {
  if (C) be.dispatch(prog, tensors, [size / C, C, ...params], [Math.ceil(C / REDUCE_COLS)]);
}
