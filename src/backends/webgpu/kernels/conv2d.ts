import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { bindings } from "../program.js";
import { conv2dLoaders } from "../wgsl/conv2d.js";
import { convGeometry, convOperands, dispatchConv } from "./conv.js";

const OPERANDS = convOperands("conv2d", conv2dLoaders, bindings(["x", "w"], ["out"]), {
  aAlongM: false,
  bAlongN: true,
});

/** out[N Ho Wo, Cout] = im2col(x) . w, im2col read on the fly (implicit GEMM). */
export const conv2d: KernelImpl<WebGpuBackend, "conv2d"> = (be, { x, w, out, stride, pad }) => {
  const g = convGeometry(x, w, out, stride, pad);
  dispatchConv(be, OPERANDS, [x, w, out], g, [g.N * g.Ho * g.Wo, g.Co, g.kh * g.kw * g.C]);
};
