import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { convDims } from "../../../kernels/convDims.js";
import { convGeometry, convProduct } from "./conv.js";

/**
 * dx[N H W, C]: the convolution of dy with the flipped, transposed filters over the input grid:
 * wasm/kernels/conv2dBackwardInput.ts. With binary filters (+-H) of a size where they pay, the
 * lookup tables (additions only; the input channels are the units), as conv2d; otherwise the
 * float product in chunks of dx from the work counter (convProduct).
 */
export const conv2dBackwardInput: KernelImpl<WasmBackend, "conv2dBackwardInput"> = (be, { dy, w, dx, stride, pad }) => {
  const d = convDims(dx, w, dy, stride, pad);
  convProduct(be, "conv2dBackwardInput", convGeometry(be, dy, w, dx, d), d.N * d.H * d.W, d.C, d.kh * d.kw * d.Co);
};
