import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { bindings } from "../program.js";
import { conv2dBackwardFilterLoaders } from "../wgsl/conv2dBackwardFilter.js";
import { convGeometry, convOperands, dispatchConv } from "./conv.js";

const OPERANDS = convOperands("conv2dBackwardFilter", conv2dBackwardFilterLoaders, bindings(["x", "dy"], ["dw"]), {
  aAlongM: true,
  bAlongN: true,
});

/** dw[kh kw Cin, Cout] = im2col(x)^T . dy (implicit GEMM). */
export const conv2dBackwardFilter: KernelImpl<WebGpuBackend, "conv2dBackwardFilter"> = (
  be,
  { x, dy, dw, stride, pad },
) => {
  const g = convGeometry(x, dw, dy, stride, pad);
  dispatchConv(be, OPERANDS, [x, dy, dw], g, [g.kh * g.kw * g.C, g.Co, g.N * g.Ho * g.Wo]);
};
