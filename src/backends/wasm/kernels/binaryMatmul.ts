import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { MIN_ELEMENTS, MIN_MATMUL_MACS, partsFor, splitRange } from "../split.js";
import { matmul } from "./matmul.js";

/**
 * out = a . op(wb) with wb in {-H, +H}: wasm/kernels/binaryMatmul.ts, in two phases: the signs of
 * wb packed to bits into shared scratch (split by units), then blocks of 16 rows of a taken from
 * the work counter, summed through lookup tables. Below LUT_MIN_UNITS units or LUT_MIN_INPUTS
 * inputs (the classifier layer), matmul.
 */
export const binaryMatmul: KernelImpl<WasmBackend, "binaryMatmul"> = (be, { a, wb, out, transB }) => {
  const [M, N] = out.shape,
    K = a.shape[1];
  if (!usesLookupTables(K, N)) {
    matmul(be, { a, b: wb, out, transA: false, transB, accumulate: false });
    return;
  }
  const bits = be.sharedScratch(N * Math.ceil(K / 8));
  const common = [be.ptr(a), be.ptr(wb), be.ptr(out), M, N, K, transB ? 1 : 0, bits, be.workCounter] as const;
  be.dispatch("binaryMatmul", [...common, LUT_PACK], splitRange(N, partsFor(N * K, MIN_ELEMENTS, be.threads), 1), 0);
  const parts = partsFor(M * N * K, MIN_MATMUL_MACS, be.threads);
  const whole = wholeBlocks(M, parts);
  be.dispatch(
    "binaryMatmul",
    [...common, LUT_PRODUCT],
    Array.from({ length: parts }, (): [number, number] => [whole, parts]),
    be.binaryMatmulScratchBytes(K, N),
  );
};

/** Rows per block of the lookup-table product (wasm/kernels/binaryMatmul.ts). */
const BLOCK_ROWS = 16;

/**
 * The blocks of 16 rows the product's threads take whole: as many as divide evenly between the
 * `parts` threads; each block after them is cut into `parts` ranges of units (wasm/kernels/
 * binaryMatmul.ts), so no thread waits on another's extra block. At batch 100 (7 blocks) on 2
 * threads: 6 whole blocks, the last one's units in halves.
 */
export function wholeBlocks(M: number, parts: number): number {
  const blocks = Math.ceil(M / BLOCK_ROWS);
  return blocks - (blocks % parts);
}

/**
 * binaryMatmul's lookup tables pay when many units share them: below these sizes (the
 * classifier layer, its input gradient) it runs as matmul. Phases of wasm/kernels/binaryMatmul.ts.
 */
const LUT_MIN_UNITS = 64;
const LUT_MIN_INPUTS = 32;
const LUT_PACK = 0,
  LUT_PRODUCT = 1;

/** Whether binaryMatmul with K inputs (a's columns) and N units (out's columns) runs on lookup tables (else as matmul). */
export function usesLookupTables(K: number, N: number): boolean {
  return N >= LUT_MIN_UNITS && K >= LUT_MIN_INPUTS;
}
