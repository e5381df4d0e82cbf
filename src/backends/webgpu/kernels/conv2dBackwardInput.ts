import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { bindings } from "../program.js";
import { conv2dBackwardInputLoaders } from "../wgsl/conv2dBackwardInput.js";
import { convGeometry, convOperands, dispatchConv } from "./conv.js";

const OPERANDS = convOperands("conv2dBackwardInput", conv2dBackwardInputLoaders, bindings(["dy", "w"], ["dx"]), {
  aAlongM: false,
  bAlongN: false,
});

/** dx[N H W, Cin] = gather of dy . w^T over the windows covering each input position (implicit GEMM). */
export const conv2dBackwardInput: KernelImpl<WebGpuBackend, "conv2dBackwardInput"> = (
  be,
  { dy, w, dx, stride, pad },
) => {
  const g = convGeometry(dx, w, dy, stride, pad);
  dispatchConv(be, OPERANDS, [dy, w, dx], g, [g.N * g.H * g.W, g.C, g.kh * g.kw * g.Co]);
};
