import type { Tensor } from "../../../core/tensor.js";
import type { ConvDims } from "../../../kernels/convDims.js";
import type { WasmBackend } from "../index.js";
import { MIN_ELEMENTS, MIN_MATMUL_MACS, partsFor, splitRange } from "../split.js";
import { matmulChunks } from "./matmul.js";

/**
 * The convolutions (conv2d.ts, conv2dBackwardInput.ts, conv2dBackwardFilter.ts) are products
 * [M, N] = (M x K) . (K x N) over an implicit im2col matrix (wasm/kernels/convGemm.ts), their
 * output shared in chunks taken from the work counter as matmul's (matmulChunks): the threads
 * of such a call.
 */
export function convThreads(M: number, N: number, K: number, threads: number): number {
  return partsFor(M * N * K, MIN_MATMUL_MACS, threads);
}

/** The per-thread arguments of a call whose threads take their work from the counter: none (dispatch adds the scratch). */
export function counterParts(parts: number): Array<[]> {
  return Array.from({ length: parts }, (): [] => []);
}

/**
 * The first 16 arguments of the three convolution exports: the byte offsets of their two
 * operands and their output, then the sizes (N H W C Ho Wo Co kh kw sh sw ph pw).
 */
export function convGeometry(be: WasmBackend, a: Tensor, b: Tensor, out: Tensor, d: ConvDims) {
  return [
    be.ptr(a),
    be.ptr(b),
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
}

/**
 * The product [rows, cols] = (rows x inner) . (inner x cols) of conv2d or conv2dBackwardInput
 * (their exports take `geometry`, then rowChunk, colChunk, counter, bits, phase, start, end,
 * scratch). With binary filters (every weight +-H, the training step's Wb) of a size where they
 * pay, the lookup tables (additions only): the signs packed (CONV_LUT_PACK), then blocks of 16
 * output positions from the work counter (CONV_LUT_PRODUCT); otherwise, or when the packing
 * finds a weight other than +-H, the float product (CONV_GEMM) in chunks of the output from
 * the work counter.
 */
export function convProduct(
  be: WasmBackend,
  kernel: "conv2d" | "conv2dBackwardInput",
  geometry: ReturnType<typeof convGeometry>,
  rows: number,
  cols: number,
  inner: number,
): void {
  const parts = convThreads(rows, cols, inner, be.threads);
  if (convUsesLookupTables(inner, cols)) {
    const bits = lutBits(be, inner, cols);
    be.dispatch(kernel, [...geometry, 0, 0, 0, bits, CONV_LUT_PACK], lutPackParts(be, inner, cols), 0);
    if (lutBinary(be, bits)) {
      be.dispatch(
        kernel,
        [...geometry, 0, 0, be.workCounter, bits, CONV_LUT_PRODUCT, 0, 0],
        counterParts(parts),
        be.convLutScratchBytes(inner, cols),
      );
      return;
    }
  }
  const [rowChunk, colChunk] = matmulChunks(rows, cols, inner, parts);
  be.dispatch(
    kernel,
    [...geometry, rowChunk, colChunk, be.workCounter, 0, CONV_GEMM, 0, 0],
    counterParts(parts),
    be.convScratchBytes,
  );
}

/** The phases of the conv2d and conv2dBackwardInput exports (wasm/kernels/convLut.ts). */
const CONV_GEMM = 0,
  CONV_LUT_PACK = 1,
  CONV_LUT_PRODUCT = 2;
/** Bytes before the signs in the lookup tables' shared block: the flag word the PACK phase sets when a weight is not +-H. */
const CONV_LUT_FLAG_BYTES = 16;

/**
 * The lookup tables (additions only, wasm/kernels/convLut.ts) pay for a convolution's product by
 * binary filters from these sizes (bench/conv-lut.ts, 1 thread, 2026-12-04: 16 units, svhn-small's
 * first layers, 0.97-1.33x the float product; 32 units 1.4x; 64 and more 1.5-2.6x); below them
 * (the first layer's 3 x 3 x 3 inputs), and for filters that are not +-H, the float product runs.
 */
const LUT_MIN_UNITS = 16;
const LUT_MIN_INPUTS = 32;

/** Whether a convolution's product with K inputs and `units` outputs per position may run on lookup tables. */
function convUsesLookupTables(K: number, units: number): boolean {
  return units >= LUT_MIN_UNITS && K >= LUT_MIN_INPUTS;
}

/**
 * The lookup-table path's shared block, its flag cleared: the PACK phase writes `units` rows of
 * ceil(K / 8) sign bytes after the flag, and sets the flag when the filters are not binary.
 */
function lutBits(be: WasmBackend, K: number, units: number): number {
  const bits = be.sharedScratch(CONV_LUT_FLAG_BYTES + units * Math.ceil(K / 8));
  be.writeInt32(bits, 0);
  return bits;
}

/** The PACK phase's ranges of units, by the K x units weights each thread reads. */
function lutPackParts(be: WasmBackend, K: number, units: number): Array<[number, number]> {
  return splitRange(units, partsFor(units * K, MIN_ELEMENTS, be.threads), 1);
}

/** Whether the PACK phase found every weight +-H (the flag still clear). */
function lutBinary(be: WasmBackend, bits: number): boolean {
  return be.readInt32(bits) === 0;
}

/**
 * Whether a convolution's shape suits the direct products of a first layer (wasm/kernels/
 * convDirect.ts forward, convDirectFilter.ts filter gradient): fewer than 32 inputs per position
 * (kh kw C: a first layer's 27; from 32 the lookup tables take binary filters) and filters in
 * multiples of 8.
 */
export function directShape(d: ConvDims): boolean {
  return d.kh * d.kw * d.C < 32 && d.Co % 8 === 0;
}
