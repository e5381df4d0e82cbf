import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { convDims } from "../../../kernels/convDims.js";
import { convThreads, counterParts } from "./conv.js";
import { matmulChunks } from "./matmul.js";

/** dw[kh kw C, Co] = im2col(x)^T . dy: wasm/kernels/conv2dBackwardFilter.ts, chunks of dw from the work counter. */
export const conv2dBackwardFilter: KernelImpl<WasmBackend, "conv2dBackwardFilter"> = (
  be,
  { x, dy, dw, stride, pad },
) => {
  const d = convDims(x, dw, dy, stride, pad);
  const rows = d.kh * d.kw * d.C,
    cols = d.Co,
    inner = d.N * d.Ho * d.Wo;
  const parts = convThreads(rows, cols, inner, be.threads);
  const [rowChunk, colChunk] = matmulChunks(rows, cols, inner, parts);
  be.dispatch(
    "conv2dBackwardFilter",
    [
      be.ptr(x),
      be.ptr(dy),
      be.ptr(dw),
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
