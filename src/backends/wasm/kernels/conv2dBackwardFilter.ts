import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import type { Tensor } from "../../../core/tensor.js";
import { type ConvDims, convDims } from "../../../kernels/convDims.js";
import { split, splitRange } from "../split.js";
import { convGeometry, convThreads, counterParts, directShape } from "./conv.js";
import { matmulChunks } from "./matmul.js";
import { winogradBlockTiles, winogradPays } from "./convWinogradProduct.js";

/**
 * dw[kh kw C, Co] = im2col(x)^T . dy: wasm/kernels/conv2dBackwardFilter.ts. A 3x3, stride-1
 * filter gradient of a size where it pays goes by Winograd's F(4x4, 3x3) transposed
 * (wasm/kernels/convWinograd.ts: 4x fewer multiply-adds, the float32 sums in another order);
 * one with few inputs per position (a first layer) by the direct product (no packing, the same
 * bits as the packed one); the others by the packed product, chunks of dw from the work counter.
 */
export const conv2dBackwardFilter: KernelImpl<WasmBackend, "conv2dBackwardFilter"> = (
  be,
  { x, dy, dw, stride, pad },
) => {
  const d = convDims(x, dw, dy, stride, pad);
  if (filterGradientPaths.winograd && winogradPays(d) && groupedFits(d)) return winogradGrouped(be, x, dy, dw, d);
  const block = filterGradientPaths.winograd && winogradPays(d) ? winogradBlock(be, d) : 0;
  if (block > 0) return winogradFilterGradient(be, x, dy, dw, d, block);
  if (filterGradientTakesDirect(d)) return directFilterGradient(be, x, dy, dw, d);
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
  const [rowChunk, colChunk] =
    rows <= FEW_ROWS && parts > 1 ? fewRowChunks(rows, cols, parts) : matmulChunks(rows, cols, inner, parts, true);
  be.dispatch(
    "conv2dBackwardFilter",
    [...convGeometry(be, x, dy, dw, d), rowChunk, colChunk, be.workCounter, FILTER_GEMM, 0, 0, 0, 0, 0],
    counterParts(parts),
    be.convScratchBytes,
  );
};

/**
 * Up to this many rows of dw (kh kw C: a first layer's 27, when the direct product does not take
 * it: filters not a multiple of 8), with 64 columns or more, column
 * chunks instead, one per thread: each row chunk streams all of dy, and with so few rows the
 * threads would read it 4 times over; a column chunk reads only its columns of dy. 2 threads,
 * batch 50, best of 20 (2026-12-05): the paper network's 32x32 3 -> 128 8.6 -> 6.5 ms (1 thread
 * 13.1); cifar10-small's 3 -> 32, 32 columns, 2.3 ms by rows, 2.6 by columns. The same bits
 * (each output's sum runs in the same order in any chunk).
 */
const FEW_ROWS = 32;

/**
 * The chunks of a filter gradient of at most FEW_ROWS rows, one per thread: column chunks from 64
 * columns; below, row chunks (multiples of the micro-kernel's 4 rows) instead of matmulChunks' 2
 * per thread, so dy is packed once per thread rather than twice. cifar10-small's 3 -> 32 (27 rows:
 * 16 + 11 instead of 8 + 8 + 8 + 3), 2 threads, batch 50, best of 14, two runs (2026-12-05):
 * 2.25 / 2.33 ms against 2.46 / 2.53 (columns 3.06 / 3.09, one thread's chunk 3.68 / 3.74).
 */
function fewRowChunks(rows: number, cols: number, parts: number): [number, number] {
  if (cols >= 64) return [rows, 8 * Math.ceil(cols / parts / 8)];
  return [4 * Math.ceil(rows / parts / 4), cols];
}

/**
 * Which filter-gradient methods the wasm backend may use (benchmarks and tests switch them off to
 * compare): Winograd's, and the direct product for few inputs.
 */
export const filterGradientPaths = { winograd: true, direct: true };

/**
 * Whether the filter gradient of `d` takes the direct product (wasm/kernels/convDirectFilter.ts),
 * unless switched off in filterGradientPaths: on a first layer's shapes (directShape in
 * conv.ts: fewer than 32 rows of dw, filters in multiples of 8): the packed product's bits without
 * its packing. 32x32x3, batch 50, best of 11 (2026-12-05), against the packed product: 32 filters
 * (cifar10-small) 2.28 against 4.35 ms on 1 thread, 1.16 against 2.13 on 2; 128 filters (the
 * paper network) 9.8 against 13.7 and 4.95 against 6.5. The positions' blocks are the outer
 * loop and the filter blocks split statically: with the filter blocks from the counter, each over
 * all positions (so each reading all of dy), 2.32 / 1.79 ms and 12.1 / 7.5 on 1 / 2 threads.
 */
export function filterGradientTakesDirect(d: ConvDims): boolean {
  return filterGradientPaths.direct && directShape(d);
}

/** The direct product: the images padded into shared scratch (split by images), then the blocks of 8 filters split between the threads. */
function directFilterGradient(be: WasmBackend, x: Tensor, dy: Tensor, dw: Tensor, d: ConvDims): void {
  const K = d.kh * d.kw * d.C;
  const paddedFloats = d.N * (d.H + 2 * d.ph) * (d.W + 2 * d.pw) * d.C;
  const padded = be.sharedScratch(4 * paddedFloats);
  const geometry = [...convGeometry(be, x, dy, dw, d), 0, 0, be.workCounter] as const;
  be.dispatch(
    "conv2dBackwardFilter",
    [...geometry, FILTER_DIRECT_PAD, 0, 0, padded],
    split(d.N, paddedFloats, 1, be.threads),
    0,
  );
  const parts = convThreads(K, d.Co, d.N * d.Ho * d.Wo, be.threads);
  be.dispatch(
    "conv2dBackwardFilter",
    [...geometry, FILTER_DIRECT, 0, 0, padded],
    splitRange(d.Co / 8, parts, 1),
    4 * 4 * Math.ceil(K / 4),
  );
}

/** The phases of the conv2dBackwardFilter export (wasm/kernels/conv2dBackwardFilter.ts, convWinograd.ts). */
const FILTER_GEMM = 0,
  WINOGRAD_TRANSFORM = 1,
  WINOGRAD_PRODUCT = 2,
  WINOGRAD_OUTPUT = 3,
  WINOGRAD_GROUPS = 4,
  FILTER_DIRECT_PAD = 5,
  FILTER_DIRECT = 6;
/** The grouped form's fixed number of groups of tiles (wasm/kernels/convWinograd.ts, WINOGRAD_GROUP_COUNT). */
const GROUPS = 4;
/**
 * The grouped form up to this many channel pairs (C Co): a thread adds each block's products
 * into its whole partial M (36 C Co floats), which must stay in its core's cache with the block.
 * cifar10-small's layers, batch 50, best of 3 (bench/conv-filter.ts, 2026-12-05), grouped against
 * one shared M, ms, 1 / 2 threads: 32x32 32 -> 32 8.4 / 3.9 against 9.6 / 7.6; 16x16 32 -> 64
 * 3.8 / 1.9 against 3.9 / 3.2; 64 -> 64 7.3 / 3.6 against 7.2 / 5.4; but 8x8 64 -> 128 3.6 / 2.5
 * against 3.4 / 1.8 and 128 -> 128 7.2 / 4.7 against 6.6 / 3.3.
 */
const GROUPED_MAX_PAIRS = 64 * 64;

/** Whether the filter gradient of `d` (Winograd's) takes the grouped form. */
function groupedFits(d: ConvDims): boolean {
  return d.C * d.Co <= GROUPED_MAX_PAIRS;
}

/**
 * The filter gradient by Winograd's grouped form: the tiles in GROUPS groups, each by one
 * thread from its transforms to its partial sum of M (blocks of tiles in the thread's own
 * scratch, no barrier between transforms and products), then dw from the partials added in
 * group order (input channels split between the threads): the same bits on any number of threads.
 */
function winogradGrouped(be: WasmBackend, x: Tensor, dy: Tensor, dw: Tensor, d: ConvDims): void {
  const tiles = d.N * Math.ceil(d.Ho / TILE) * Math.ceil(d.Wo / TILE);
  const block = winogradBlockTiles(d.C, d.Co);
  const work = be.sharedScratch(4 * GROUPS * be.winogradWorkFloats(0, d.C, d.Co));
  const geometry = [...convGeometry(be, x, dy, dw, d), 0, 0, be.workCounter] as const;
  const parts = Math.min(GROUPS, convThreads(tiles * 16, d.Co, 9 * d.C, be.threads));
  be.dispatch(
    "conv2dBackwardFilter",
    [...geometry, WINOGRAD_GROUPS, 0, block, work],
    counterParts(parts).map(() => [0, 0] as const),
    be.winogradGroupScratchBytes(block, d.C, d.Co),
  );
  winogradOutput(be, geometry, d, GROUPS, work);
}

/** The first arguments of the Winograd phases: the convolution's geometry, then rowChunk, colChunk (unused), the work counter. */
type FilterGeometry = readonly [...ReturnType<typeof convGeometry>, number, number, number];

/** dw from the sums M (`partials` of them, added in order): input channels split between the threads. */
function winogradOutput(be: WasmBackend, geometry: FilterGeometry, d: ConvDims, partials: number, work: number): void {
  const outputParts = splitRange(d.C, Math.min(be.threads, Math.max(1, Math.floor((d.C * d.Co) / (1 << 12)))), 1);
  be.dispatch("conv2dBackwardFilter", [...geometry, WINOGRAD_OUTPUT, partials, 0, work], outputParts, 0);
}

/** Winograd's tiles: 4 x 4 outputs of dy each. */
const TILE = 4;
/**
 * Blocks of tiles: their transforms (V and U) up to 4 MiB (1M floats), the products' operands
 * kept near the cores, but at least 128 tiles, for each block adds to all of M (36 C Co
 * floats). 1 thread, batch 50, best of 3, the machine otherwise idle (2026-12-04): 128 -> 128
 * at 32x32 (113 tiles a block here) 108.6 ms; blocks of 32, 64, 128, 256 tiles 108.9-110.3,
 * 1,024: 117.7; 512 -> 512 at 8x8 (128 here) 92.2 ms; 32 tiles 103.9, 64: 98.9, 256: 92.9.
 */
const WINOGRAD_BLOCK_FLOATS = 1 << 20;
const WINOGRAD_MIN_BLOCK = 128;
/**
 * The largest work area Winograd takes (M, 36 C Co floats, and a block's transforms): 256 MiB,
 * a 3x3 layer of up to ~1,300 x 1,300 channels; a larger one goes by the direct product.
 */
const WINOGRAD_MAX_WORK_BYTES = 256 * 2 ** 20;

/** Tiles per block of the filter gradient of `d` by Winograd, or 0 when its work area would pass WINOGRAD_MAX_WORK_BYTES. */
function winogradBlock(be: WasmBackend, d: ConvDims): number {
  const tiles = d.N * Math.ceil(d.Ho / TILE) * Math.ceil(d.Wo / TILE);
  const perTile = be.winogradWorkFloats(1, d.C, d.Co) - be.winogradWorkFloats(0, d.C, d.Co);
  const block = Math.min(tiles, Math.max(WINOGRAD_MIN_BLOCK, Math.floor(WINOGRAD_BLOCK_FLOATS / perTile)));
  return 4 * (block * perTile + be.winogradWorkFloats(0, d.C, d.Co)) <= WINOGRAD_MAX_WORK_BYTES ? block : 0;
}

/**
 * The filter gradient by Winograd, the tiles in blocks of `block`: per block, the transforms (tiles split
 * between the threads), then the 36 products (one per chunk from the work counter, summed over
 * the blocks in block order: the same bits on any number of threads); then dw from the sums
 * (input channels split between the threads).
 */
function winogradFilterGradient(be: WasmBackend, x: Tensor, dy: Tensor, dw: Tensor, d: ConvDims, block: number): void {
  const tiles = d.N * Math.ceil(d.Ho / TILE) * Math.ceil(d.Wo / TILE);
  const work = be.sharedScratch(4 * be.winogradWorkFloats(block, d.C, d.Co));
  const geometry = [...convGeometry(be, x, dy, dw, d), 0, 0, be.workCounter] as const;
  const threads = be.threads;
  for (let tile0 = 0; tile0 < tiles; tile0 += block) {
    const n = Math.min(block, tiles - tile0);
    const transformParts = splitRange(n, Math.min(threads, convThreads(n * 64, d.C + d.Co, 36, threads)), 1);
    be.dispatch(
      "conv2dBackwardFilter",
      [...geometry, WINOGRAD_TRANSFORM, tile0, n, work],
      transformParts,
      be.convScratchBytes,
    );
    const productParts = convThreads(d.C * d.Co, 36, n, threads);
    be.dispatch(
      "conv2dBackwardFilter",
      [...geometry, WINOGRAD_PRODUCT, tile0, n, work],
      counterParts(productParts).map(() => [0, 0] as const),
      be.convScratchBytes,
    );
  }
  winogradOutput(be, geometry, d, 1, work);
}
