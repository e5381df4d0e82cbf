/**
 * The convolutions' products by binary filters without multiplications (BinaryConnect, paper
 * sections 2.6 and 5), the lookup-table method of binaryMatmul.ts over the implicit im2col
 * matrix of convPack.ts: conv2d's forward product and conv2dBackwardInput's, when every filter
 * weight is +H or -H (the binarized Wb of a training step):
 *
 *   out[m, u] = H * sum_k s[k][u] a[m, k],  s = sign(w) in {-1, +1} stored as bits
 *
 * conv2d:              a = im2col(x) [N Ho Wo, kh kw Cin], units u = co, s[k][co] = sign w[k, co]
 * conv2dBackwardInput: a = im2col'(dy) [N H W, kh kw Cout] (the flipped filters' grid),
 *                      units u = ci, s[(ki', kj', co)][ci] = sign w[kh-1-ki', kw-1-kj', ci, co]
 *
 * Two phases, run one after the other by the host (each split across threads):
 * - PACK: units [start, end): their weights checked (|w| = H = |w[0]| for every one, H finite
 *   and > 0; else the flag word at `bits` is set to 1 and the host runs the float product
 *   instead) and their signs packed: unit u's ceil(K / 8) bytes at bits + 16 + u * kGroups,
 *   bit j of byte g = (weight of input 8g + j > 0);
 * - PRODUCT: blocks of 16 rows of a taken from the shared counter: packed from the image into
 *   the tables' blocked layout (packConvBlock), then the tables of 4 inputs (fewer than
 *   CONV_LUT4_UNITS units: wasm/infer/denseLut4.ts) or of 8 (wasm/infer/denseLut.ts), every
 *   unit's sums by table reads and additions, and out = H * sums for the block's rows.
 *
 * Sums are float32 in another order than the float product's: the result equals the reference
 * within float32 rounding of the sums (as binaryMatmul). A non-finite input gives NaN in the
 * tables (+inf - inf) where the float product might give +-inf.
 */
import { accumulate, buildTables, CHUNK, GROUP_TABLE, HALVES, LANE_BYTES } from "../infer/denseLut";
import { accumulate4, buildTables4, CHUNK4 } from "../infer/denseLut4";
import { packColumns, writeRows } from "./binaryMatmul";
import { packConvBlock } from "./convPack";

/** The phases of conv2d and conv2dBackwardInput: the float product (convGemm.ts), then this file's two. */
export const CONV_GEMM: i32 = 0;
export const CONV_LUT_PACK: i32 = 1;
export const CONV_LUT_PRODUCT: i32 = 2;
/**
 * Fewer units than this take the tables of 4 inputs, more those of 8 (the inference engine's
 * switch, DENSE_LUT4_UNITS, is at 192). The paper network's layers, batch 50, 1 thread, best of 3
 * (2026-12-04): 256 units 4-input 71-135 ms against 8-input 78-157 ms (15-20 % less), 512 units
 * 60-121 against 58-115 ms (5 % more).
 */
const CONV_LUT4_UNITS: i32 = 384;
/** Bytes before the signs in `bits`: the flag word (0: binary), padded. */
export const CONV_LUT_FLAG_BYTES: i32 = 16;

/**
 * PACK of conv2d: units co in [start, end) of w [K, Co] (K = kh kw Cin): the columns of w, as
 * binaryMatmul's packColumns.
 */
export function packForwardSigns(w: usize, K: i32, Co: i32, bits: usize, start: i32, end: i32): void {
  const hBits = absBits(w);
  if (!finitePositive(hBits) || differs(w + (<usize>start << 2), K, <usize>Co << 2, end - start, hBits)) atomic.store<i32>(bits, 1);
  packColumns(w, Co, K, (K + 7) >> 3, bits + CONV_LUT_FLAG_BYTES, start, end);
}

/**
 * PACK of conv2dBackwardInput: units ci in [start, end); input k' = (ki' kw + kj') Co + co of
 * unit ci is w[kh-1-ki', kw-1-kj', ci, co] (a row of w's [Cin, Co] block of the flipped tap:
 * contiguous, 8 signs per two bitmasks when Co is a multiple of 8).
 */
export function packFlippedSigns(w: usize, C: i32, Co: i32, kh: i32, kw: i32, bits: usize, start: i32, end: i32): void {
  const hBits = absBits(w), taps = kh * kw, tapBytes = (<usize>C * <usize>Co) << 2;
  if (!finitePositive(hBits) || differs(w + ((<usize>start * <usize>Co) << 2), taps, tapBytes, (end - start) * Co, hBits)) atomic.store<i32>(bits, 1);
  const K = taps * Co, kGroups = (K + 7) >> 3, signs = bits + CONV_LUT_FLAG_BYTES;
  for (let ci = start; ci < end; ci++) {
    const dst = signs + <usize>ci * <usize>kGroups, row = w + ((<usize>ci * <usize>Co) << 2);
    for (let gr = 0; gr < kGroups; gr++) {
      const k0 = gr << 3;
      if ((Co & 7) == 0) {
        const tap = k0 / Co, p = row + <usize>(taps - 1 - tap) * tapBytes + (<usize>(k0 - tap * Co) << 2);
        const negative = i32x4.bitmask(v128.load(p)) | (i32x4.bitmask(v128.load(p, 16)) << 4);
        store<u8>(dst + <usize>gr, <u8>(~negative & 0xff));
        continue;
      }
      let byte = 0;
      for (let j = 0; j < 8 && k0 + j < K; j++) {
        const k = k0 + j, tap = k / Co, p = row + <usize>(taps - 1 - tap) * tapBytes + (<usize>(k - tap * Co) << 2);
        byte |= <i32>(load<u32>(p) >>> 31 ^ 1) << j;
      }
      store<u8>(dst + <usize>gr, <u8>byte);
    }
  }
}

/** Bytes of one thread's scratch for PRODUCT (after the geometry header): tables, a block of a (kPad x 16 rows), the sums (units x 16 rows). */
export function convLutScratchBytes(K: i32, units: i32): i32 {
  const kPad = ((K + 7) >> 3) << 3;
  return <i32>(<usize>CHUNK * GROUP_TABLE + HALVES) + (kPad + units) * <i32>LANE_BYTES;
}

/**
 * PRODUCT: out[M, units] = H * (a . s), a = the implicit matrix of the geometry at g (M rows, K
 * = kh kw Cs columns), H = |w[0]|; blocks of 16 rows from `counter`. `work`: convLutScratchBytes.
 */
export function convLutProduct(g: usize, bits: usize, H: f32, out: usize, M: i32, units: i32, K: i32, counter: usize, work: usize): void {
  const kGroups = (K + 7) >> 3, kPad = kGroups << 3, signs = bits + CONV_LUT_FLAG_BYTES;
  const tables = work, xb = tables + <usize>CHUNK * GROUP_TABLE + HALVES;
  const sums = xb + <usize>kPad * LANE_BYTES;
  const blocks = (M + 15) >> 4;
  for (let b = atomic.add<i32>(counter, 1); b < blocks; b = atomic.add<i32>(counter, 1)) {
    const r0 = b << 4, rows = min(16, M - r0);
    packConvBlock(g, r0, rows, kPad, xb);
    if (units < CONV_LUT4_UNITS) {
      for (let g0 = 0; g0 < kGroups; g0 += CHUNK4) {
        const g1 = min(kGroups, g0 + CHUNK4);
        buildTables4(xb, g0, g1, tables);
        accumulate4(tables, g0, g1, kGroups, signs, units, sums);
      }
    } else {
      for (let g0 = 0; g0 < kGroups; g0 += CHUNK) {
        const g1 = min(kGroups, g0 + CHUNK);
        buildTables(xb, g0, g1, tables);
        accumulate(tables, g0, g1, kGroups, signs, units, sums);
      }
    }
    writeRows(sums, units, H, out, r0, rows, units);
  }
}

/** The bits of |w[0]|. */
@inline export function absBits(w: usize): u32 {
  return load<u32>(w) & 0x7fffffff;
}

/** Whether the float with these bits of |H| is finite and > 0. */
@inline export function finitePositive(hBits: u32): bool {
  return hBits != 0 && hBits < 0x7f800000;
}

/** Whether any of `rows` runs of `len` floats (at p, p + stride, ...) has |value| other than the float with bits hBits. */
function differs(p: usize, rows: i32, stride: usize, len: i32, hBits: u32): bool {
  const mask = i32x4.splat(0x7fffffff), h = i32x4.splat(hBits);
  let bad = i32x4.splat(0);
  for (let r = 0; r < rows; r++) {
    const q = p + <usize>r * stride;
    let i = 0;
    for (; i + 4 <= len; i += 4) bad = v128.or(bad, v128.xor(v128.and(v128.load(q + (<usize>i << 2)), mask), h));
    for (; i < len; i++) if ((load<u32>(q + (<usize>i << 2)) & 0x7fffffff) != hBits) return true;
  }
  return v128.any_true(bad);
}
