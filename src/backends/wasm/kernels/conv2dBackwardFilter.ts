import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { convDims } from "../../../kernels/convDims.js";
import { convGeometry, convThreads, counterParts } from "./conv.js";
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
  // Row chunks, 2 per thread (matmulChunks' rowsFirst, as matmul's weight gradients) rather than
  // up to 4 per thread: each chunk streams all of dy and its rows of x over the N Ho Wo
  // positions, so fewer chunks read less. 2 threads, 3x3, batch 50, best of 4 calls, 3 runs
  // interleaved (2026-12-04): 512 -> 512 at 8x8 169-199 -> 149-161 ms, 128 -> 128 at 32x32
  // 164-200 -> 156-173 ms, cifar10-small's layers within the noise; the same bits (each
  // output's sum runs in the same order in any chunk).
  const [rowChunk, colChunk] = matmulChunks(rows, cols, inner, parts, true);
  be.dispatch(
    "conv2dBackwardFilter",
    [...convGeometry(be, x, dy, dw, d), rowChunk, colChunk, be.workCounter],
    counterParts(parts),
    be.convScratchBytes,
  );
};
