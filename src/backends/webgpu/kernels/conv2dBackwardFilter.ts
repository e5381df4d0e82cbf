import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { conv2dBackwardFilterLoaders } from "../wgsl/conv2dBackwardFilter.js";
import { CONV_PARAMS, convGeometry } from "./conv.js";
import { dispatchGemm, type GemmOperands } from "./gemm.js";

const OPERANDS: GemmOperands = {
  key: "conv2dBackwardFilter",
  params: CONV_PARAMS,
  accumulate: false,
  aAlongM: true,
  bAlongN: true,
  loaders: conv2dBackwardFilterLoaders,
  tensors: [
    { name: "x", write: false },
    { name: "dy", write: false },
    { name: "dw", write: true },
  ],
};

/** dw[kh kw Cin, Cout] = im2col(x)^T . dy (implicit GEMM). */
export const conv2dBackwardFilter: KernelImpl<WebGpuBackend, "conv2dBackwardFilter"> = (
  be,
  { x, dy, dw, stride, pad },
) => {
  const g = convGeometry(x, dw, dy, stride, pad);
  const [C, kh, kw, Co, Ho, Wo] = g.values.slice(2, 8);
  dispatchGemm(be, OPERANDS, [x, dy, dw], [kh * kw * C, Co, g.N * Ho * Wo, ...g.values]);
};
