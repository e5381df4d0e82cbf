import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { convDims } from "../../../kernels/convDims.js";
import { convThreads, counterParts } from "./conv.js";
import { matmulChunks } from "./matmul.js";

/**
 * dx[N H W, C]: the convolution of dy with the flipped, transposed filters over the input grid:
 * wasm/kernels/conv2dBackwardInput.ts, chunks of dx from the work counter.
 */
export const conv2dBackwardInput: KernelImpl<WasmBackend, "conv2dBackwardInput"> = (be, { dy, w, dx, stride, pad }) => {
  const d = convDims(dx, w, dy, stride, pad);
  const rows = d.N * d.H * d.W,
    cols = d.C,
    inner = d.kh * d.kw * d.Co;
  const parts = convThreads(rows, cols, inner, be.threads);
  const [rowChunk, colChunk] = matmulChunks(rows, cols, inner, parts);
  be.dispatch(
    "conv2dBackwardInput",
    [
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
      rowChunk,
      colChunk,
      be.workCounter,
    ],
    counterParts(parts),
    be.convScratchBytes,
  );
};
