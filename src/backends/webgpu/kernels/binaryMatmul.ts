import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { matmul } from "./matmul.js";

/**
 * out = a . op(wb), wb in {-H, +H}: the tiled float product (matmul.ts). A GPU's multiply-add
 * costs what an add does, so the lookup tables of the CPU kernel would not pay here.
 */
export const binaryMatmul: KernelImpl<WebGpuBackend, "binaryMatmul"> = (be, { a, wb, out, transB }) =>
  matmul(be, { a, b: wb, out, transA: false, transB, accumulate: false });
