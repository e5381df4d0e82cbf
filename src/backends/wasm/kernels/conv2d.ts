import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { type ConvDims, convDims } from "../../../kernels/convDims.js";
import { convGeometry, convProduct, convThreads, counterParts, directShape } from "./conv.js";
import { convProductPaths, winogradProduct, winogradProductPays } from "./convWinogradProduct.js";

/**
 * out[N Ho Wo, Co] = im2col(x) . w: wasm/kernels/conv2d.ts. A 3x3 stride-1 filter of a size
 * where it pays goes by Winograd's F(4x4, 3x3) (convWinogradProduct.ts). Otherwise, with binary filters (every weight
 * +-H, the training step's Wb) of a size where they pay, the lookup tables (additions only): the
 * signs packed, then blocks of 16 output positions from the work counter; otherwise, or when the
 * packing finds a weight other than +-H, the float product in chunks of the output (convProduct);
 * for a first layer's few inputs per position, the float product without packing (convDirect).
 */
export const conv2d: KernelImpl<WasmBackend, "conv2d"> = (be, { x, w, out, stride, pad }) => {
  const d = convDims(x, w, out, stride, pad);
  const geometry = convGeometry(be, x, w, out, d);
  if (winogradProductPays(d)) return winogradProduct(be, "conv2d", geometry, d.N, d.Ho, d.Wo, d.C, d.Co);
  if (conv2dTakesDirect(d)) return convDirect(be, geometry, d);
  convProduct(be, "conv2d", geometry, d.N * d.Ho * d.Wo, d.Co, d.kh * d.kw * d.C);
};

/**
 * Whether conv2d takes the direct product (wasm/kernels/convDirect.ts), unless switched off in
 * convProductPaths: on a first layer's shapes (directShape in conv.ts: fewer than 32 inputs per
 * position, filters in multiples of 8). The same bits as the packed float product (convGemm),
 * without its packing: 32x32x3, batch 50, best of 11 (2026-12-05), 32 filters (cifar10-small)
 * 4.61 -> 1.82 ms on 1 thread, 2.30 -> 0.90 on 2; 128 filters (the paper network) 11.9 -> 7.9
 * and 5.5 -> 4.1.
 */
export function conv2dTakesDirect(d: ConvDims): boolean {
  return convProductPaths.direct && directShape(d);
}

/** The direct product: images from the work counter; per thread, scratch for the K inputs' offsets and one padded image. */
function convDirect(be: WasmBackend, geometry: ReturnType<typeof convGeometry>, d: ConvDims): void {
  const parts = Math.min(d.N, convThreads(d.N * d.Ho * d.Wo, d.Co, d.kh * d.kw * d.C, be.threads));
  const scratchBytes = (d.kh * d.kw * d.C + (d.H + 2 * d.ph) * (d.W + 2 * d.pw) * d.C) * 4;
  be.dispatch("conv2d", [...geometry, 0, 0, be.workCounter, 0, CONV_DIRECT, 0, 0], counterParts(parts), scratchBytes);
}

/** conv2d's phase of the direct product (wasm/kernels/convDirect.ts). */
const CONV_DIRECT = 5;
