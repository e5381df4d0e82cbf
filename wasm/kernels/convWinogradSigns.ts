/**
 * Winograd's filter transforms U_e = (G g G^T)[e] (convWinogradProduct.ts) for binary filters
 * (every weight +-H, the training step's Wb), one term at a time from the filters' signs. A
 * 3 x 3 filter g[k, n] of +-H is one of 512: its 9 signs, bit 3 a + b = sign of g[a][b], pick
 * its 36 transforms from tables of 512 entries per term,
 *
 *   U_e[k, n] = table_e[signs(k, n)],  table_e[s] = (G g_s G^T)[e],  g_s[a][b] = (bit 3a+b of s) ? -H : H,
 *
 * each entry computed by winogradFilters' own float32 operations (filterTransform, columns then
 * rows) on the same values: the same bits as U from the filters.
 *
 * Where U passes the core's cache (36 K Nc floats: 37.7 MB for 512 -> 512 channels),
 * WINOGRAD_FILTERS writes it to memory and every block of tiles reads it back: on the 8 x 8
 * 512 -> 512 layer, 1 thread, 18-20 ms of conv2d's 100 went to writing U. Here each block's
 * thread fills one term at a time (K x Nc floats, 1 MiB for 512 -> 512) from the signs (2 bytes
 * a filter) and the tables (74 KiB), just before that term's product reads it from its cache.
 *
 * WINOGRAD_SIGNS: the signs of filters k in [start, end) (every n) into the shared block
 * (winogradSignBytes): a flag (set when a weight is not +-H for the H of the first, or H is not
 * finite and > 0: the host then takes WINOGRAD_FILTERS), then the signs [K][nPad] as u16
 * (PAD_SIGNS past Nc: entry PAD_SIGNS of every table is 0, the packed columns' zeros as
 * winogradFilters writes them; the products never store those columns).
 */
import { absBits, finitePositive } from "./convLut";
import { filterTransform } from "./convWinogradProduct";
import { KC, NR, packedColumns, STRIP } from "./matmulPack";

const TERMS: i32 = 36;
/** Bytes before the signs in the shared block: the flag word, padded. */
const FLAG_BYTES: usize = 16;
/** The signs of a padding column: a table entry of 0 past the 512 filters'. */
const PAD_SIGNS: i32 = 512;
/** Floats of one term's table: the 512 filters' entries, the padding's 0, and 3 more to keep each table 16-byte aligned. */
const TABLE_FLOATS: i32 = 516;

/** Bytes of the shared block of WINOGRAD_SIGNS: the flag, then K x nPad u16 signs. */
export function winogradSignBytes(K: i32, Nc: i32): i32 {
  return <i32>FLAG_BYTES + K * packedColumns(Nc) * 2;
}

/** Bytes of the 36 tables. */
export const SIGN_TABLES_BYTES: i32 = TERMS * TABLE_FLOATS * 4;

/** Bytes of per-thread scratch the terms from the signs add to winogradProductScratchBytes: the 36 tables, then one term of U (K x nPad floats). */
export function winogradSignScratchBytes(K: i32, Nc: i32): i32 {
  return SIGN_TABLES_BYTES + K * packedColumns(Nc) * 4;
}

/**
 * WINOGRAD_SIGNS for filters k in [start, end) (multiples of 4), every n < Nc, of w [3,3,C,Co];
 * `flipped`: conv2dBackwardInput's filters g[k, n][a][b] = w[2 - a, 2 - b, n, k] (K = Co,
 * Nc = C), else conv2d's g[k, n][a][b] = w[a, b, k, n] (K = C, Nc = Co).
 */
export function winogradSigns(w: usize, block: usize, K: i32, Nc: i32, flipped: bool, start: i32, end: i32): void {
  const hBits = absBits(w), nPad = packedColumns(Nc), signs = block + FLAG_BYTES;
  const bad = flipped ? flippedSigns(w, signs, K, Nc, nPad, start, end, hBits) : directSigns(w, signs, K, Nc, nPad, start, end, hBits);
  if (bad || !finitePositive(hBits)) atomic.store<i32>(block, 1);
  for (let k = start; k < end; k++) {
    for (let n = Nc; n < nPad; n++) store<u16>(signs + ((<usize>k * <usize>nPad + <usize>n) << 1), <u16>PAD_SIGNS);
  }
}

/** conv2d's signs, 4 filters (n .. n + 3) a vector: tap t of (k, n) at w[(t K + k) Nc + n]. Whether a |weight| was not H. */
function directSigns(w: usize, signs: usize, K: i32, Nc: i32, nPad: i32, start: i32, end: i32, hBits: u32): bool {
  const magnitude = i32x4.splat(0x7fffffff), h = i32x4.splat(hBits);
  let off = i32x4.splat(0);
  for (let k = start; k < end; k++) {
    for (let n = 0; n < Nc; n += 4) {
      let s = i32x4.splat(0);
      for (let t = 0; t < 9; t++) {
        const v = v128.load(w + ((<usize>(t * K + k) * <usize>Nc + <usize>n) << 2));
        off = v128.or(off, v128.xor(v128.and(v, magnitude), h));
        s = v128.or(s, i32x4.shl(i32x4.shr_u(v, 31), t));
      }
      store<u64>(signs + ((<usize>k * <usize>nPad + <usize>n) << 1), i64x2.extract_lane(i16x8.narrow_i32x4_u(s, s), 0));
    }
  }
  return v128.any_true(off);
}

/** conv2dBackwardInput's signs, 4 filters (k .. k + 3) a vector: tap t of (k, n) at w[((8 - t) Nc + n) K + k]. Whether a |weight| was not H. */
function flippedSigns(w: usize, signs: usize, K: i32, Nc: i32, nPad: i32, start: i32, end: i32, hBits: u32): bool {
  const magnitude = i32x4.splat(0x7fffffff), h = i32x4.splat(hBits), row = <usize>nPad << 1;
  let off = i32x4.splat(0);
  for (let k = start; k < end; k += 4) {
    for (let n = 0; n < Nc; n++) {
      let s = i32x4.splat(0);
      for (let t = 0; t < 9; t++) {
        const v = v128.load(w + ((<usize>((8 - t) * Nc + n) * <usize>K + <usize>k) << 2));
        off = v128.or(off, v128.xor(v128.and(v, magnitude), h));
        s = v128.or(s, i32x4.shl(i32x4.shr_u(v, 31), t));
      }
      const at = signs + ((<usize>k * <usize>nPad + <usize>n) << 1);
      store<u16>(at, <u16>i32x4.extract_lane(s, 0));
      store<u16>(at + row, <u16>i32x4.extract_lane(s, 1));
      store<u16>(at + 2 * row, <u16>i32x4.extract_lane(s, 2));
      store<u16>(at + 3 * row, <u16>i32x4.extract_lane(s, 3));
    }
  }
  return v128.any_true(off);
}

/**
 * The 36 tables of the filters +-H (H = |w[0]|) at `tables` (TABLE_FLOATS each), 4 sign
 * patterns a vector through winogradFilters' transforms (filterTransform: G g, then (G g) G^T);
 * `work`: 9 + 18 + 36 f32x4.
 */
export function signTables(w: usize, tables: usize, work: usize): void {
  const hBits = absBits(w), half = work + 9 * 16, terms = half + 18 * 16;
  const lanes = i32x4(0, 1, 2, 3);
  for (let s = 0; s < 512; s += 4) {
    const patterns = i32x4.add(i32x4.splat(s), lanes);
    for (let t = 0; t < 9; t++) {
      const negative = i32x4.shl(v128.and(i32x4.shr_u(patterns, t), i32x4.splat(1)), 31);
      v128.store(work + <usize>(t << 4), v128.or(i32x4.splat(hBits), negative));
    }
    for (let b = 0; b < 3; b++) filterTransform(work + <usize>(b << 4), 3 * 16, half + <usize>(b << 4), 3 * 16);
    for (let r = 0; r < 6; r++) filterTransform(half + <usize>(r * 3 << 4), 16, terms + <usize>(r * 6 << 4), 16);
    for (let e = 0; e < TERMS; e++) v128.store(tables + ((<usize>(e * TABLE_FLOATS + s)) << 2), v128.load(terms + <usize>(e << 4)));
  }
  for (let e = 0; e < TERMS; e++) {
    const pad = tables + ((<usize>(e * TABLE_FLOATS + PAD_SIGNS)) << 2);
    v128.store(pad, f32x4.splat(0));
  }
}

/**
 * Term e of U, pre-packed as winogradFilters writes it (matmulPack.ts: per block of KC rows,
 * strips of STRIP columns, each two tiles of kc x NR), into `out` from the signs (the shared
 * block) and the tables: written in order, 8 columns of a row a step.
 */
export function termFromSigns(block: usize, tables: usize, e: i32, K: i32, Nc: i32, out: usize): void {
  const nPad = packedColumns(Nc), signs = block + FLAG_BYTES, table = tables + (<usize>(e * TABLE_FLOATS) << 2);
  let to = out;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0);
    for (let j = 0; j < nPad; j += STRIP) {
      for (let h = 0; h < STRIP; h += NR) {
        let from = signs + ((<usize>k0 * <usize>nPad + <usize>(j + h)) << 1);
        for (let kk = 0; kk < kc; kk++, from += <usize>nPad << 1, to += NR << 2) {
          const s = v128.load(from);
          v128.store(to, four(table, i16x8.extract_lane_u(s, 0), i16x8.extract_lane_u(s, 1), i16x8.extract_lane_u(s, 2), i16x8.extract_lane_u(s, 3)));
          v128.store(to, four(table, i16x8.extract_lane_u(s, 4), i16x8.extract_lane_u(s, 5), i16x8.extract_lane_u(s, 6), i16x8.extract_lane_u(s, 7)), 16);
        }
      }
    }
  }
}

/** The table's entries for the signs a, b, c, d, as one vector. */
@inline function four(table: usize, a: u16, b: u16, c: u16, d: u16): v128 {
  let v = f32x4.splat(load<f32>(table + (<usize>a << 2)));
  v = f32x4.replace_lane(v, 1, load<f32>(table + (<usize>b << 2)));
  v = f32x4.replace_lane(v, 2, load<f32>(table + (<usize>c << 2)));
  return f32x4.replace_lane(v, 3, load<f32>(table + (<usize>d << 2)));
}
