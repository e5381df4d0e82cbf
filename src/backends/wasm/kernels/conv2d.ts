import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { convDims } from "../../../kernels/convDims.js";
import { convThreads, counterParts } from "./conv.js";
import { matmulChunks } from "./matmul.js";

/** out[N Ho Wo, Co] = im2col(x) . w: wasm/kernels/conv2d.ts, chunks of the output from the work counter. */
export const conv2d: KernelImpl<WasmBackend, "conv2d"> = (be, { x, w, out, stride, pad }) => {
  const d = convDims(x, w, out, stride, pad);
  const rows = d.N * d.Ho * d.Wo,
    cols = d.Co,
    inner = d.kh * d.kw * d.C;
  const parts = convThreads(rows, cols, inner, be.threads);
  const [rowChunk, colChunk] = matmulChunks(rows, cols, inner, parts);
  be.dispatch(
    "conv2d",
    [
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
      rowChunk,
      colChunk,
      be.workCounter,
    ],
    counterParts(parts),
    be.convScratchBytes,
  );
};
