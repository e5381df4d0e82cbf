/**
 * binaryMatmul (contract): out[M,N] = a[M,K] . op(wb), op(wb) = wb [K,N] (or wb^T, wb [N,K],
 * when transB), where every entry of wb is +H or -H (BinaryConnect's binarized weights, paper
 * section 2.3). Multiply-free in the product, as the paper's section 2.6 / 5 proposes:
 *
 *   out[m, n] = H * sum_k s[k][n] a[m, k],  s = sign(wb) in {-1, +1} stored as bits
 *
 * by the inference engine's 8-bit lookup tables (wasm/infer/denseLut.ts): for a block of 16
 * rows of a and each group g of 8 inputs, the 256 signed sums T[g][b] = sum_j (bit j of b ?
 * +a : -a); then out[m, n] = H * sum_g T[g][byte g of unit n's signs]: one table read (16 rows)
 * and one f32x4 add per 8 weights and 4 rows, the only products being the final scale by H.
 *
 * Two phases, called by the host one after the other (each split across threads):
 * - phase 0 (PACK): the signs of units [start, end) into `bits`: unit n's row of kGroups =
 *   ceil(K / 8) bytes at bits + n * kGroups, bit j of byte g = (op(wb)[8g + j, n] > 0);
 * - phase 1 (PRODUCT): blocks of 16 rows taken from the shared counter (as matmul's chunks):
 *   the block's rows of a are transposed into the thread's scratch (features past K and rows
 *   past M are 0), tables are built 16 groups at a time, every unit accumulates its sums in the
 *   scratch, and after the last group out = H * sums (rows past M are not written). The blocks
 *   from `start` on are each cut into `end` ranges of units, one work item each (the host sets
 *   them so that every thread gets as many blocks: 7 blocks on 2 threads are 6 whole blocks and
 *   the last one's two halves of the units); an item builds its block's tables and sums its
 *   units only, so every output is the same float operations whoever computes it.
 *
 * Sums are float32 in another order than matmul's (the tables add 4 inputs, then two halves,
 * then the groups): the result equals the float product within float32 rounding. A non-finite
 * a gives NaN in the tables (+inf - inf), where matmul might give +-inf.
 *
 * Scratch per thread: binaryMatmulScratchBytes(K, N).
 */
import { blockRows } from "../infer/conv";
import { transpose4 } from "../infer/transpose4";
import { accumulate, buildTables, CHUNK, GROUP_TABLE, HALVES, LANE_BYTES } from "../infer/denseLut";

export const PACK: i32 = 0;
export const PRODUCT: i32 = 1;
const ROWS: i32 = 16;

/** Bytes of one thread's scratch: tables, the block of a (kPad features x 16 rows), the sums (N units x 16 rows). */
export function binaryMatmulScratchBytes(K: i32, N: i32): i32 {
  const kPad = ((K + 7) >> 3) << 3;
  return <i32>(<usize>CHUNK * GROUP_TABLE + HALVES) + (kPad + N) * <i32>LANE_BYTES;
}

export function binaryMatmul(
  a: usize, wb: usize, out: usize, M: i32, N: i32, K: i32, transB: bool, bits: usize, counter: usize,
  phase: i32, start: i32, end: i32, scratch: usize,
): void {
  const kGroups = (K + 7) >> 3;
  if (phase == PACK) {
    if (transB) packRows(wb, K, kGroups, bits, start, end);
    else packColumns(wb, N, K, kGroups, bits, start, end);
    return;
  }
  const H = abs<f32>(load<f32>(wb));
  const tables = scratch, xb = tables + <usize>CHUNK * GROUP_TABLE + HALVES;
  const sums = xb + (<usize>kGroups << 3) * LANE_BYTES;
  const blocks = (M + ROWS - 1) / ROWS, whole = min(start, blocks), parts = max(1, end);
  const items = whole + (blocks - whole) * parts;
  for (let item = atomic.add<i32>(counter, 1); item < items; item = atomic.add<i32>(counter, 1)) {
    let b = item, ranges = 1, part = 0; // a whole block: one range of all N units
    if (item >= whole) {
      b = whole + (item - whole) / parts;
      ranges = parts;
      part = (item - whole) % parts;
    }
    const n0 = unitBound(N, ranges, part), n1 = unitBound(N, ranges, part + 1);
    const r0 = b * ROWS, rows = min(ROWS, M - r0);
    blockRows(a + ((<usize>r0 * <usize>K) << 2), rows, K, kGroups << 3, xb, 1);
    for (let g0 = 0; g0 < kGroups; g0 += CHUNK) {
      const g1 = min(kGroups, g0 + CHUNK);
      buildTables(xb, g0, g1, tables);
      accumulate(tables, g0, g1, kGroups, bits + <usize>n0 * <usize>kGroups, n1 - n0, sums); // unit n0 + n at sums + n * 64
    }
    writeRows(sums, n1 - n0, H, out + (<usize>n0 << 2), r0, rows, N);
  }
}

/** The first unit of range `part` of `parts` ranges of N units (N for part = parts), in multiples of 4 (the output's 4 x 4 transposes). */
@inline function unitBound(N: i32, parts: i32, part: i32): i32 {
  return min(N, (((N + 3) >> 2) * part / parts) << 2);
}

/** transB: unit n's inputs are the row n of wb [N, K] (contiguous): 8 signs per byte by two bitmasks. */
function packRows(wb: usize, K: i32, kGroups: i32, bits: usize, start: i32, end: i32): void {
  const full = K >> 3;
  for (let n = start; n < end; n++) {
    const row = wb + ((<usize>n * <usize>K) << 2), dst = bits + <usize>n * <usize>kGroups;
    for (let g = 0; g < full; g++) {
      const p = row + (<usize>g << 5);
      const negative = i32x4.bitmask(v128.load(p)) | (i32x4.bitmask(v128.load(p, 16)) << 4);
      store<u8>(dst + <usize>g, <u8>(~negative & 0xff));
    }
    if (full < kGroups) {
      let byte = 0;
      for (let j = 0; (full << 3) + j < K; j++) byte |= <i32>(load<u32>(row + (<usize>((full << 3) + j) << 2)) >>> 31 ^ 1) << j;
      store<u8>(dst + <usize>full, <u8>byte);
    }
  }
}

/**
 * Not transB: unit n's inputs are the column n of wb [K, N]. For each group of 8 rows, 16
 * units at a time: each row's 16 signs (shift, then narrow i32 -> i8: 0xff where negative)
 * masked to its bit and or-ed, then inverted (1 = +H): one byte per unit.
 */
export function packColumns(wb: usize, N: i32, K: i32, kGroups: i32, bits: usize, start: i32, end: i32): void {
  const stride = <usize>N << 2, rb = <usize>kGroups;
  for (let g = 0; g < kGroups; g++) {
    const k0 = g << 3, count = min(8, K - k0);
    const rows = wb + <usize>k0 * stride, validBits: i32 = (1 << count) - 1;
    const valid = i8x16.splat(<i8>validBits);
    let n = start;
    for (; n + 16 <= end; n += 16) {
      let negative = i8x16.splat(0), p = rows + (<usize>n << 2);
      for (let j = 0; j < count; j++) {
        const lo = i16x8.narrow_i32x4_s(i32x4.shr_s(v128.load(p), 31), i32x4.shr_s(v128.load(p, 16), 31));
        const hi = i16x8.narrow_i32x4_s(i32x4.shr_s(v128.load(p, 32), 31), i32x4.shr_s(v128.load(p, 48), 31));
        negative = v128.or(negative, v128.and(i8x16.narrow_i16x8_s(lo, hi), i8x16.splat(<i8>bitOf(j))));
        p += stride;
      }
      storeBytes(v128.and(v128.not(negative), valid), bits + <usize>n * rb + <usize>g, rb);
    }
    for (; n < end; n++) {
      let byte = 0, p = rows + (<usize>n << 2);
      for (let j = 0; j < count; j++) {
        byte |= <i32>(load<u32>(p) >>> 31 ^ 1) << j;
        p += stride;
      }
      store<u8>(bits + <usize>n * rb + <usize>g, <u8>byte);
    }
  }
}

/** 1 << j. */
@inline function bitOf(j: i32): i32 {
  return 1 << j;
}

/** The 16 bytes of v to dst, dst + step, ..., dst + 15 step. */
@inline function storeBytes(v: v128, dst: usize, step: usize): void {
  store<u8>(dst, i8x16.extract_lane_u(v, 0)); store<u8>(dst + step, i8x16.extract_lane_u(v, 1));
  store<u8>(dst + 2 * step, i8x16.extract_lane_u(v, 2)); store<u8>(dst + 3 * step, i8x16.extract_lane_u(v, 3));
  store<u8>(dst + 4 * step, i8x16.extract_lane_u(v, 4)); store<u8>(dst + 5 * step, i8x16.extract_lane_u(v, 5));
  store<u8>(dst + 6 * step, i8x16.extract_lane_u(v, 6)); store<u8>(dst + 7 * step, i8x16.extract_lane_u(v, 7));
  store<u8>(dst + 8 * step, i8x16.extract_lane_u(v, 8)); store<u8>(dst + 9 * step, i8x16.extract_lane_u(v, 9));
  store<u8>(dst + 10 * step, i8x16.extract_lane_u(v, 10)); store<u8>(dst + 11 * step, i8x16.extract_lane_u(v, 11));
  store<u8>(dst + 12 * step, i8x16.extract_lane_u(v, 12)); store<u8>(dst + 13 * step, i8x16.extract_lane_u(v, 13));
  store<u8>(dst + 14 * step, i8x16.extract_lane_u(v, 14)); store<u8>(dst + 15 * step, i8x16.extract_lane_u(v, 15));
}

/**
 * out[r0 + r, n] = H * sums[n][r] for the block's valid rows and N units, out's rows `stride`
 * floats apart: four units by four rows at a time (scaled, then a 4 x 4 transpose),
 * the last N % 4 units (and rows % 4 rows) one by one.
 */
export function writeRows(sums: usize, N: i32, H: f32, out: usize, r0: i32, rows: i32, stride: i32): void {
  const rowBytes = <usize>stride << 2, h = f32x4.splat(H), n4 = N & ~3, r4 = rows & ~3;
  for (let r = 0; r < r4; r += 4) {
    const dst = out + <usize>(r0 + r) * rowBytes, src = sums + (<usize>r << 2);
    for (let n = 0; n < n4; n += 4) {
      const p = src + <usize>n * LANE_BYTES;
      transpose4(f32x4.mul(v128.load(p), h), f32x4.mul(v128.load(p, 64), h), f32x4.mul(v128.load(p, 128), h), f32x4.mul(v128.load(p, 192), h), dst + (<usize>n << 2), rowBytes);
    }
  }
  for (let r = 0; r < rows; r++) {
    const dst = out + <usize>(r0 + r) * rowBytes, src = sums + (<usize>r << 2);
    for (let n = r < r4 ? n4 : 0; n < N; n++) store<f32>(dst + (<usize>n << 2), H * load<f32>(src + <usize>n * LANE_BYTES));
  }
}
