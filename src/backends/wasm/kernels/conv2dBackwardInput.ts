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
 * dx[N H W, C]: the convolution of dy with the flipped, transposed filters over the input grid:
 * wasm/kernels/conv2dBackwardInput.ts. With binary filters (+-H) of a size where they pay, the
 * lookup tables (additions only; the input channels are the units), as conv2d; otherwise the
 * float product in chunks of dx from the work counter.
 */
export const conv2dBackwardInput: KernelImpl<WasmBackend, "conv2dBackwardInput"> = (be, { dy, w, dx, stride, pad }) => {
  const d = convDims(dx, w, dy, stride, pad);
  const rows = d.N * d.H * d.W,
    cols = d.C,
    inner = d.kh * d.kw * d.Co;
  const parts = convThreads(rows, cols, inner, be.threads);
  const geometry = [
    be.ptr(dy),
    be.ptr(w),
    be.ptr(dx),
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
    be.dispatch("conv2dBackwardInput", [...geometry, 0, 0, 0, bits, CONV_LUT_PACK], lutPackParts(be, inner, cols), 0);
    if (lutBinary(be, bits)) {
      be.dispatch(
        "conv2dBackwardInput",
        [...geometry, 0, 0, be.workCounter, bits, CONV_LUT_PRODUCT, 0, 0],
        counterParts(parts),
        be.convLutScratchBytes(inner, cols),
      );
      return;
    }
  }
  const [rowChunk, colChunk] = matmulChunks(rows, cols, inner, parts);
  be.dispatch(
    "conv2dBackwardInput",
    [...geometry, rowChunk, colChunk, be.workCounter, 0, CONV_GEMM, 0, 0],
    counterParts(parts),
    be.convScratchBytes,
  );
};
