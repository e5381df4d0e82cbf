/**
 * The inference module of `binaryconnect/infer` (src/infer/): multiply-free binary dense
 * layers (dense.ts on the tables of denseLut.ts for blocks of 16 rows, denseNibbleRow.ts for single rows), binary
 * convolutions as the same kernel over unfolded patches (conv.ts) or, for stride 1 and channels in
 * multiples of 8, over tables built once per input row (convTaps.ts), max pooling and layout changes
 * (conv.ts), and the input preprocessing (prep.ts). Separate from the training kernels (wasm/index.ts): no threads, no
 * shared memory (a web page needs no cross-origin isolation), no static data. The host owns
 * the imported memory and lays out weights, activations and table scratch in it.
 */
export { denseLut } from "./dense";
export { denseLutTableBytes } from "./denseLut";
export { denseNibbleRow, nibbleTranspose, nibbleBytes, nibblePlaneBytes } from "./denseNibbleRow";
export { conv2dLut, convPatchBytes, poolAffine, blockRows } from "./conv";
export { conv2dTaps, convTapsCacheBytes, convTapsIndexBytes } from "./convTaps";
export { prepPixels } from "./prep";

/** The first byte the host may use: everything below belongs to the module. */
export function heapBase(): usize {
  return __heap_base;
}
