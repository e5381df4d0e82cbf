import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { bindings } from "../program.js";
import { matmulLoaders } from "../wgsl/matmul.js";
import { dispatchGemm, type GemmOperands } from "./gemm.js";

export { MATMUL_TILES, pickMatmulTile, pickSplitK, type MatmulTileName } from "./gemm.js";

const PARAMS = [
  ["M", "u32"],
  ["N", "u32"],
  ["K", "u32"],
] as const;
const TENSORS = bindings(["a", "b"], ["out"]);

function operands(transA: boolean, transB: boolean, accumulate: boolean): GemmOperands {
  return {
    key: `matmul(${transA ? "A^T" : "A"}.${transB ? "B^T" : "B"})`,
    params: PARAMS,
    tensors: TENSORS,
    loaders: () => matmulLoaders(transA, transB),
    aAlongM: transA,
    bAlongN: !transB,
    accumulate,
  };
}

/** out[M,N] = op(a) . op(b) (+ out): the tiled product of wgsl/gemm.ts. */
export const matmul: KernelImpl<WebGpuBackend, "matmul"> = (be, { a, b, out, transA, transB, accumulate }) => {
  const [M, N] = out.shape;
  const K = transA ? a.shape[0] : a.shape[1];
  dispatchGemm(be, operands(transA, transB, accumulate), [a, b, out], [M, N, K]);
};
