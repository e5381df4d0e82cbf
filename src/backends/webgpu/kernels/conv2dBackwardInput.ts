import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { conv2dBackwardInputLoaders } from "../wgsl/conv2dBackwardInput.js";
import { CONV_PARAMS, convGeometry } from "./conv.js";
import { dispatchGemm, type GemmOperands } from "./gemm.js";

const OPERANDS: GemmOperands = {
  key: "conv2dBackwardInput",
  params: CONV_PARAMS,
  accumulate: false,
  aAlongM: false,
  bAlongN: false,
  loaders: conv2dBackwardInputLoaders,
  tensors: [
    { name: "dy", write: false },
    { name: "w", write: false },
    { name: "dx", write: true },
  ],
};

/** dx[N H W, Cin] = gather of dy . w^T over the windows covering each input position (implicit GEMM). */
export const conv2dBackwardInput: KernelImpl<WebGpuBackend, "conv2dBackwardInput"> = (
  be,
  { dy, w, dx, stride, pad },
) => {
  const g = convGeometry(dx, w, dy, stride, pad);
  const [H, W, C, kh, kw, Co] = g.values.slice(0, 6);
  dispatchGemm(be, OPERANDS, [dy, w, dx], [g.N * H * W, C, kh * kw * Co, ...g.values]);
};
