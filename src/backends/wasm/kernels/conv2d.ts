import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { convDims } from "../../../kernels/convDims.js";
import { convGeometry, convProduct } from "./conv.js";
import { winogradProduct, winogradProductPays } from "./convWinogradProduct.js";

/**
 * out[N Ho Wo, Co] = im2col(x) . w: wasm/kernels/conv2d.ts. A 3x3 stride-1 filter of a size
 * where it pays goes by Winograd's F(4x4, 3x3) (convWinogradProduct.ts). Otherwise, with binary filters (every weight
 * +-H, the training step's Wb) of a size where they pay, the lookup tables (additions only): the
 * signs packed, then blocks of 16 output positions from the work counter; otherwise, or when the
 * packing finds a weight other than +-H, the float product in chunks of the output (convProduct).
 */
export const conv2d: KernelImpl<WasmBackend, "conv2d"> = (be, { x, w, out, stride, pad }) => {
  const d = convDims(x, w, out, stride, pad);
  const geometry = convGeometry(be, x, w, out, d);
  if (winogradProductPays(d)) return winogradProduct(be, "conv2d", geometry, d.N, d.Ho, d.Wo, d.C, d.Co);
  convProduct(be, "conv2d", geometry, d.N * d.Ho * d.Wo, d.Co, d.kh * d.kw * d.C);
};
