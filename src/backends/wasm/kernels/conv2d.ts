import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { convDims } from "../../../kernels/convDims.js";
import {
  CONV_GEMM,
  CONV_LUT_PACK,
  CONV_LUT_PRODUCT,
  convThreads,
  convUsesLookupTables,
  counterParts,
  lutBinary,
  lutBits,
  lutPackParts,
} from "./conv.js";
import { matmulChunks } from "./matmul.js";

/**
 * out[N Ho Wo, Co] = im2col(x) . w: wasm/kernels/conv2d.ts. With binary filters (every weight
 * +-H, the training step's Wb) of a size where they pay, the lookup tables (additions only): the
 * signs packed, then blocks of 16 output positions from the work counter; otherwise, or when the
 * packing finds a weight other than +-H, the float product in chunks of the output.
 */
export const conv2d: KernelImpl<WasmBackend, "conv2d"> = (be, { x, w, out, stride, pad }) => {
  const d = convDims(x, w, out, stride, pad);
  const rows = d.N * d.Ho * d.Wo,
    cols = d.Co,
    inner = d.kh * d.kw * d.C;
  const parts = convThreads(rows, cols, inner, be.threads);
  const geometry = [
    be.ptr(x),
    be.ptr(w),
    be.ptr(out),
    d.N,
    d.H,
    d.W,
    d.C,
    d.Ho,
    d.Wo,
    d.Co,
    d.kh,
    d.kw,
    d.sh,
    d.sw,
    d.ph,
    d.pw,
  ] as const;
  if (convUsesLookupTables(inner, cols)) {
    const bits = lutBits(be, inner, cols);
    be.dispatch("conv2d", [...geometry, 0, 0, 0, bits, CONV_LUT_PACK], lutPackParts(be, inner, cols), 0);
    if (lutBinary(be, bits)) {
      be.dispatch(
        "conv2d",
        [...geometry, 0, 0, be.workCounter, bits, CONV_LUT_PRODUCT, 0, 0],
        counterParts(parts),
        be.convLutScratchBytes(inner, cols),
      );
      return;
    }
  }
  const [rowChunk, colChunk] = matmulChunks(rows, cols, inner, parts);
  be.dispatch(
    "conv2d",
    [...geometry, rowChunk, colChunk, be.workCounter, 0, CONV_GEMM, 0, 0],
    counterParts(parts),
    be.convScratchBytes,
  );
};
