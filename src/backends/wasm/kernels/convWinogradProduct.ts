import type { ConvDims } from "../../../kernels/convDims.js";
import type { WasmBackend } from "../index.js";
import { MIN_ELEMENTS, partsFor, splitRange } from "../split.js";
import type { convGeometry } from "./conv.js";
import { convThreads, counterParts } from "./conv.js";

/**
 * conv2d's and conv2dBackwardInput's product for a 3x3, stride-1 filter by Winograd's F(4x4, 3x3)
 * (wasm/kernels/convWinogradProduct.ts): 36 float multiply-adds per 4 x 4 output tile and
 * channel pair instead of 144, the float32 sums in another order than the direct product's.
 */

/**
 * Which product methods conv2d and conv2dBackwardInput may use (benchmarks and tests switch them
 * off to compare): Winograd's, its terms from binary filters' signs (winogradProduct), and
 * conv2d's direct product for few inputs (conv2d.ts).
 */
export const convProductPaths = { winograd: true, winogradSigns: true, direct: true };

/** The phases of the convolution exports that run Winograd's product (after the float and lookup-table ones, conv.ts). */
const WINOGRAD_FILTERS = 3,
  WINOGRAD_TILES = 4,
  WINOGRAD_SIGNS = 6,
  WINOGRAD_SIGN_TILES = 7;

/** Winograd's output tiles: 4 x 4. */
const TILE = 4;
/** Channels from which Winograd pays (both sides, multiples of 4: its transforms take 4 channels at a time). */
const MIN_CHANNELS = 16;
/**
 * A block of tiles (one thread's unit of work: its input transforms, 36 products, outputs) holds
 * 36 tiles (K + Nc) floats; blocks of up to BLOCK_FLOATS floats, BLOCK_TILES_MIN to BLOCK_TILES_MAX tiles.
 */
const BLOCK_FLOATS = 1 << 17;
const BLOCK_TILES_MIN = 32;
const BLOCK_TILES_MAX = 128;

/**
 * Whether a convolution has Winograd's shape (its products and its filter gradient,
 * conv2dBackwardFilter.ts): 3x3, stride 1, input and output channels multiples of 4 from MIN_CHANNELS.
 */
export function winogradPays(d: ConvDims): boolean {
  const square3 = d.kh === 3 && d.kw === 3 && d.sh === 1 && d.sw === 1;
  const channels = (c: number) => c % 4 === 0 && c >= MIN_CHANNELS;
  return square3 && channels(d.C) && channels(d.Co);
}

/** Whether the products of a convolution (conv2d's, conv2dBackwardInput's) go by Winograd: its shape, the grid below, and the switch on. */
export function winogradProductPays(d: ConvDims): boolean {
  const grid = Math.min(d.Ho, d.Wo) >= MIN_GRID || d.C * d.Co <= MAX_SMALL_GRID_PAIRS;
  return convProductPaths.winograd && winogradPays(d) && grid;
}

/**
 * Winograd's product on every grid from 8 x 8 up (with the blocks of productBlockTiles below); on
 * a smaller grid, only with few channel pairs. 1 thread, batch 50 (bench/conv-winograd.ts with
 * the 8 x 8 layers routed to Winograd, 2026-12-06): the paper network's 8 x 8 layers, against the
 * lookup tables, conv2d / conv2dBackwardInput, blocks of 32 tiles: 256 -> 512 1.11x / 1.10x,
 * 512 -> 512 1.03x / 0.97x; blocks of 200 tiles (the whole batch): 1.17x / 1.16x and 1.19x / 1.14x.
 */
const MIN_GRID = 8;
const MAX_SMALL_GRID_PAIRS = 128 * 128;

/**
 * The product by Winograd: the filters' transforms (inputs split between the threads, 4 at a
 * time, into the shared work area, packed for the products), then blocks of tiles of the Ho x Wo
 * output grid from the work counter. Where U passes the cache (largeFilters) and the filters are
 * binary (+-H, the training step's Wb), their signs instead (binarySigns), and each block's
 * thread fills each term of U from them just before its product (wasm/kernels/convWinogradSigns.ts:
 * the same bits).
 * K, Nc: the product's input and output channels (conv2d: C, Co; conv2dBackwardInput: Co, C).
 */
export function winogradProduct(
  be: WasmBackend,
  kernel: "conv2d" | "conv2dBackwardInput",
  geometry: ReturnType<typeof convGeometry>,
  images: number,
  Ho: number,
  Wo: number,
  K: number,
  Nc: number,
): void {
  const tiles = images * Math.ceil(Ho / TILE) * Math.ceil(Wo / TILE);
  const block = productBlockTiles(tiles, K, Nc, be.threads);
  const parts = counterParts(Math.min(convThreads(tiles * 16, Nc, 9 * K, be.threads), Math.ceil(tiles / block)));
  const scratch = be.winogradProductScratchBytes(block, K, Nc);
  const signs =
    convProductPaths.winogradSigns && largeFilters(K, Nc) ? binarySigns(be, kernel, geometry, K, Nc) : undefined;
  if (signs !== undefined) {
    const extra = be.winogradSignScratchBytes(K, Nc);
    be.dispatch(
      kernel,
      [...geometry, block, 0, be.workCounter, signs, WINOGRAD_SIGN_TILES, 0, 0],
      parts,
      scratch + extra,
    );
    return;
  }
  const u = be.sharedScratch(4 * be.winogradFilterFloats(K, Nc));
  const filterParts = splitRange(K, partsFor(36 * K * Nc, MIN_ELEMENTS, be.threads), 4);
  be.dispatch(kernel, [...geometry, block, 0, 0, u, WINOGRAD_FILTERS], filterParts, be.winogradFilterScratchBytes(Nc));
  be.dispatch(kernel, [...geometry, block, 0, be.workCounter, u, WINOGRAD_TILES, 0, 0], parts, scratch);
}

/**
 * The filters' signs (WINOGRAD_SIGNS, inputs split between the threads) in the shared block, or
 * undefined when a weight is not +-H (the flag the phase sets).
 */
function binarySigns(
  be: WasmBackend,
  kernel: "conv2d" | "conv2dBackwardInput",
  geometry: ReturnType<typeof convGeometry>,
  K: number,
  Nc: number,
): number | undefined {
  const block = be.sharedScratch(be.winogradSignBytes(K, Nc));
  be.writeInt32(block, 0);
  const parts = splitRange(K, partsFor(9 * K * Nc, MIN_ELEMENTS, be.threads), 4);
  be.dispatch(kernel, [...geometry, 0, 0, 0, block, WINOGRAD_SIGNS], parts, 0);
  return be.readInt32(block) === 0 ? block : undefined;
}

/** Tiles per block for K input and Nc output channels (multiples of 4: the products' 4-row panels; also the filter gradient's grouped form's). */
export function winogradBlockTiles(K: number, Nc: number): number {
  const fit = Math.floor(BLOCK_FLOATS / (36 * (K + Nc)));
  return Math.min(BLOCK_TILES_MAX, Math.max(BLOCK_TILES_MIN, fit & ~3));
}

/**
 * Tiles per block of Winograd's product of `tiles` tiles on `threads` threads: winogradBlockTiles,
 * but when the filters' transforms U (36 K Nc floats) pass LARGE_FILTERS_BYTES, as few blocks as
 * keep every thread busy (ceil(tiles / threads), a multiple of 4, within the scratch budget below):
 * each block reads all of U, from past the core's L2 cache. The bits do not depend on the block
 * (each output's sums run in the same order in any block). 1 thread, batch 50, the paper
 * network's 8 x 8 512 -> 512 layer (200 tiles; 2026-12-06): conv2d 111 ms in blocks of 32, 106 in
 * one of 200; its 256 -> 512 layer 52 and 55 (the two within the machine's spread).
 */
export function productBlockTiles(tiles: number, K: number, Nc: number, threads: number): number {
  const block = winogradBlockTiles(K, Nc);
  if (!largeFilters(K, Nc)) return block;
  const perThread = Math.ceil(Math.ceil(tiles / threads) / 4) * 4;
  const budget = Math.max(WHOLE_BLOCK_SCRATCH_BYTES, WHOLE_BLOCKS_SCRATCH_BYTES / threads);
  const inBudget = Math.floor(budget / (36 * 4 * (K + Nc))) & ~3;
  return Math.max(block, Math.min(inBudget, perThread));
}

/** Whether the filters' transforms U (36 K Nc floats) pass LARGE_FILTERS_BYTES. */
function largeFilters(K: number, Nc: number): boolean {
  return 36 * K * Nc * 4 > LARGE_FILTERS_BYTES;
}

/** U's size from which productBlockTiles takes whole blocks: 16 MiB (256 -> 512 channels: 18 MiB; 256 -> 256: 9 MiB). */
const LARGE_FILTERS_BYTES = 16 * 2 ** 20;
/**
 * The scratch a whole block's V and M may take (36 x 4 (K + Nc) bytes a tile): 64 MiB over all
 * threads, at least 16 MiB a thread (112 tiles of 512 -> 512 channels). Each thread keeps its
 * scratch for the backend's life, so blocks sized by the batch alone would hold ~2.25x a layer's
 * activations (300 MB on 8 threads at batch 500). The paper network's 8 x 8 layers at batch 50
 * (200 tiles) stay in one block a thread on 1 and 2 threads: in two blocks on 1 thread, 512 -> 512
 * took 110-113 ms against 103-110 (conv2d, alternated, 2026-12-06).
 */
const WHOLE_BLOCKS_SCRATCH_BYTES = 64 * 2 ** 20;
const WHOLE_BLOCK_SCRATCH_BYTES = 16 * 2 ** 20;
