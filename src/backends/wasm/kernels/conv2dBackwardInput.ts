import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { convDims } from "../../../kernels/convDims.js";
import { convGeometry, convProduct } from "./conv.js";
import { winogradProduct, winogradProductPays } from "./convWinogradProduct.js";

/**
 * dx[N H W, C]: the convolution of dy with the flipped, transposed filters over the input grid:
 * wasm/kernels/conv2dBackwardInput.ts. A 3x3 stride-1 filter of a size where it pays goes by
 * Winograd's F(4x4, 3x3) (convWinogradProduct.ts). Otherwise, with binary filters (+-H) of a size where they pay, the
 * lookup tables (additions only; the input channels are the units), as conv2d; otherwise the
 * float product in chunks of dx from the work counter (convProduct).
 */
export const conv2dBackwardInput: KernelImpl<WasmBackend, "conv2dBackwardInput"> = (be, { dy, w, dx, stride, pad }) => {
  const d = convDims(dx, w, dy, stride, pad);
  const geometry = convGeometry(be, dy, w, dx, d);
  if (winogradProductPays(d)) return winogradProduct(be, "conv2dBackwardInput", geometry, d.N, d.H, d.W, d.Co, d.C);
  convProduct(be, "conv2dBackwardInput", geometry, d.N * d.H * d.W, d.C, d.kh * d.kw * d.Co);
};
