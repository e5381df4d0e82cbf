/**
 * The WebAssembly module of the wasm backend: one export per kernel of the contract
 * (src/kernels/contract.ts), with the same name, plus the layout queries.
 *
 * Conventions (every kernel):
 * - tensors are byte offsets into the imported shared memory; sizes are element counts;
 * - a kernel computes only its part: a range [start, end) of elements, rows or channels (and
 *   for matmul a block of rows x columns), so the host can split one call across threads;
 * - kernels allocate nothing: per-thread scratch memory is passed in by the host;
 * - no static data (no strings: compiled with --use abort=), so instantiating the module in
 *   every worker never writes to the shared memory.
 */
export { adam } from "./kernels/adam";
export { batchNormBackward } from "./kernels/batchNormBackward";
export { batchNormInfer } from "./kernels/batchNormInfer";
export { batchNormTrain } from "./kernels/batchNormTrain";
export { biasAdd } from "./kernels/biasAdd";
export { binarize } from "./kernels/binarize";
export { binaryMatmul } from "./kernels/binaryMatmul";
export { columnSum } from "./kernels/columnSum";
export { conv2d } from "./kernels/conv2d";
export { conv2dBackwardFilter } from "./kernels/conv2dBackwardFilter";
export { conv2dBackwardInput } from "./kernels/conv2dBackwardInput";
export { copy } from "./kernels/copy";
export { dropout } from "./kernels/dropout";
export { fill } from "./kernels/fill";
export { matmul } from "./kernels/matmul";
export { maxPool } from "./kernels/maxPool";
export { maxPoolBackward } from "./kernels/maxPoolBackward";
export { multiply } from "./kernels/multiply";
export { relu } from "./kernels/relu";
export { reluBackward } from "./kernels/reluBackward";
export { squareHingeLoss } from "./kernels/squareHingeLoss";

import { DENSE_SCRATCH_BYTES, MATMUL_SCRATCH_BYTES } from "./kernels/matmul";
import { SPARSE_SCRATCH_BYTES } from "./kernels/matmulSparse";
import { CONV_HEADER_BYTES } from "./kernels/convPack";
import { binaryMatmulScratchBytes as binaryMatmulScratch } from "./kernels/binaryMatmul";
import { convLutScratchBytes as convLutScratch } from "./kernels/convLut";
import { winogradGroupScratchBytes as winogradGroupScratch, winogradWorkFloats as winogradWork } from "./kernels/convWinograd";
import {
  winogradFilterFloats as winogradFilterWork,
  winogradFilterScratchBytes as winogradFilterScratch,
  winogradProductScratchBytes as winogradProductScratch,
} from "./kernels/convWinogradProduct";
import { winogradSignBytes as winogradSignBlock, winogradSignScratchBytes as winogradSignScratch } from "./kernels/convWinogradSigns";

/** The first byte the host may use: everything below belongs to the module. */
export function heapBase(): usize {
  return __heap_base;
}

/** Bytes of scratch one thread needs for matmul. */
export function matmulScratchBytes(): i32 {
  return MATMUL_SCRATCH_BYTES;
}

/** Bytes of scratch one thread needs for the convolutions (a geometry header, the dense product's, then the filter gradient's sparse path's). */
export function convScratchBytes(): i32 {
  return CONV_HEADER_BYTES + DENSE_SCRATCH_BYTES + SPARSE_SCRATCH_BYTES;
}

/** Bytes of scratch one thread needs for binaryMatmul with K inputs and N units. */
export function binaryMatmulScratchBytes(K: i32, N: i32): i32 {
  return binaryMatmulScratch(K, N);
}

/** Bytes of scratch one thread needs for a convolution's lookup-table product (CONV_LUT_PRODUCT) with K inputs and `units` outputs per position. */
export function convLutScratchBytes(K: i32, units: i32): i32 {
  return CONV_HEADER_BYTES + convLutScratch(K, units);
}

/** Floats of the shared work area of the Winograd filter gradient for blocks of `tiles` tiles, C input and Co output channels. */
export function winogradWorkFloats(tiles: i32, C: i32, Co: i32): f64 {
  return winogradWork(tiles, C, Co);
}

/** Bytes of scratch one thread needs for Winograd's convolution product (WINOGRAD_TILES) in blocks of `block` tiles, K input and Nc output channels. */
export function winogradProductScratchBytes(block: i32, K: i32, Nc: i32): i32 {
  return winogradProductScratch(block, K, Nc);
}

/** Floats of the shared work area of the filters' transforms of Winograd's convolution product (WINOGRAD_FILTERS), K input and Nc output channels. */
export function winogradFilterFloats(K: i32, Nc: i32): f64 {
  return winogradFilterWork(K, Nc);
}

/** Bytes of scratch one thread needs for the filters' transforms of Winograd's convolution product (WINOGRAD_FILTERS) with Nc output channels. */
export function winogradFilterScratchBytes(Nc: i32): i32 {
  return winogradFilterScratch(Nc);
}

/** Bytes of the shared block of the signs of Winograd's convolution product from binary filters (WINOGRAD_SIGNS), K input and Nc output channels. */
export function winogradSignBytes(K: i32, Nc: i32): i32 {
  return winogradSignBlock(K, Nc);
}

/** Bytes of scratch one thread needs, beyond winogradProductScratchBytes, for Winograd's product from the signs (WINOGRAD_SIGN_TILES). */
export function winogradSignScratchBytes(K: i32, Nc: i32): i32 {
  return winogradSignScratch(K, Nc);
}

/** Bytes of scratch one thread needs for the Winograd filter gradient's grouped form in blocks of `block` tiles, C input and Co output channels. */
export function winogradGroupScratchBytes(block: i32, C: i32, Co: i32): i32 {
  return winogradGroupScratch(block, C, Co);
}
