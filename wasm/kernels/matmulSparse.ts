/**
 * matmul's path for the weight gradient x^T.dy when x is mostly zeros: the input of a layer
 * that follows a ReLU (about half zeros in the MNIST MLP), or raw sparse data such as
 * uncentred pixels. For a block of rows [m0, m0+mc) of out and steps [k0, k0+kc) of k:
 *
 *   out[i, j] += sum over k with a[k, i] != 0 of a[k, i] * b[k, j]        (a: [K,M] holds op(a)^T)
 *   (out[i, j] = the sum when `overwrite`: the first block of k of a product without accumulate)
 *
 * in the same order of k and with the same multiply-add as the dense micro-kernel (matmul.ts),
 * so the result is bit for bit the dense one: a skipped term a*b is +-0, and a sum that starts
 * at +0 never becomes -0. The one exception is IEEE's 0 * inf = NaN, so a column block of b
 * that holds a non-finite value is handed back to the dense path.
 *
 * Method: per row i of the block, a list of its non-zero a[k, i] (byte offset of row k in the
 * packed b block, value); then per block of 24 columns of out, b's kc x 24 block is packed
 * contiguously (19 KiB at kc = 200, it stays in L1: rows of b are often 4 KiB apart and would
 * meet in the same cache sets) and every row runs over its list with 6 f32x4 accumulators.
 * 1024 x 1024 from 200 rows on 1 thread (bench/matmul-wasm.ts): 8.2 ms dense, 6.7 ms with half
 * of x zeros, 3.2 ms with 80 %.
 */

import { madd } from "./madd";
import { KC, MC } from "./matmulPack";

/** Columns of out per sparse block: 6 vectors of 4. */
export const SPARSE_NB = 24;
/** Above this fraction of non-zeros (sampled) the dense micro-kernel is faster. */
export const MAX_DENSITY: f32 = 0.7;
/** Narrower blocks of out stay dense: 10 columns took 0.36 ms sparse (at half zeros) against 0.14 dense. */
export const MIN_COLS = 64;
/** Steps of k sampled for the density estimate. */
export const SAMPLE_STEPS = 8;

/** Bytes of scratch the sparse path needs for blocks of at most MC rows and KC steps of k: lists, counts, b block, an edge row. */
export const SPARSE_SCRATCH_BYTES: i32 = MC * KC * 8 + MC * 4 + (KC + 1) * SPARSE_NB * 4;

/**
 * Whether out's block of mc rows x `cols` columns should take the sparse path: wide enough to
 * repay the lists (the 10-unit classifier's gradient is not), and a's columns [m0, m0+mc)
 * sparse enough in a sample of rows [k0, k0+8) (a: [K,M]).
 */
export function looksSparse(a: usize, M: i32, m0: i32, mc: i32, k0: i32, kc: i32, cols: i32): bool {
  if (cols < MIN_COLS) return false;
  const steps = min(SAMPLE_STEPS, kc), lda = <usize>M << 2;
  let zeros = 0;
  for (let k = 0; k < steps; k++) {
    const row = a + <usize>(k0 + k) * lda + (<usize>m0 << 2);
    for (let i = 0; i < mc; i++) zeros += i32(load<f32>(row + (<usize>i << 2)) == 0);
  }
  return <f32>(steps * mc - zeros) <= MAX_DENSITY * <f32>(steps * mc);
}

/**
 * out[m0.., c0..c1) += (a's columns [m0, m0+mc))^T . b over k in [k0, k0+kc), for the column
 * blocks of 24 that b holds only finite values in. Returns the first column it did not do (c1
 * when it did them all): the caller runs the dense path from there.
 */
export function sparseRowsAT(
  a: usize, b: usize, out: usize, M: i32, N: i32, m0: i32, mc: i32, k0: i32, kc: i32, c0: i32, c1: i32, scratch: usize, overwrite: bool,
): i32 {
  buildLists(a, M, m0, mc, k0, kc, scratch, listCounts(scratch, mc, kc));
  return listsTimesB(b, out, N, m0, mc, k0, kc, c0, c1, scratch, overwrite);
}

/**
 * The sparse path's scratch (SPARSE_SCRATCH_BYTES): the rows' lists from its start (mc rows of
 * kc entries of 8 bytes), then their mc counts (here), then the packed block of b, then an edge row.
 */
@inline export function listCounts(scratch: usize, mc: i32, kc: i32): usize {
  return scratch + <usize>(mc * kc * 8);
}

/**
 * out[m0.., c0..c1) += (= when `overwrite`) the mc rows' lists (in `scratch`, as listCounts lays it out) times b
 * ([K, N]) over k in [k0, k0+kc), for the column blocks of 24 that b holds only finite values
 * in: each block packed (packBlock), then every row runs over its list (rowTimesBlock). Returns
 * the first column it did not do (c1 when it did them all). For matmul's and the convolution's
 * lists alike (sparseRowsAT, convSparse.ts's sparsePanelRows).
 */
@inline export function listsTimesB(
  b: usize, out: usize, N: i32, m0: i32, mc: i32, k0: i32, kc: i32, c0: i32, c1: i32, scratch: usize, overwrite: bool,
): i32 {
  const lists = scratch, counts = listCounts(scratch, mc, kc), bp = counts + <usize>(mc * 4), edge = bp + <usize>(kc * SPARSE_NB * 4);
  const ldc = <usize>N << 2;
  for (let j = c0; j < c1; j += SPARSE_NB) {
    const nb = min(SPARSE_NB, c1 - j);
    if (!packBlock(b, N, j, nb, k0, kc, bp)) return j;
    for (let i = 0; i < mc; i++) {
      const list = lists + <usize>(i * kc * 8), n = load<i32>(counts + (<usize>i << 2));
      const c = out + <usize>(m0 + i) * ldc + (<usize>j << 2);
      if (nb == SPARSE_NB) {
        rowTimesBlock(list, n, bp, c, overwrite);
      } else {
        rowTimesBlock(list, n, bp, edge, true);
        for (let t = 0; t < nb; t++) {
          const p = c + (<usize>t << 2), v = load<f32>(edge + (<usize>t << 2));
          store<f32>(p, overwrite ? v : load<f32>(p) + v);
        }
      }
    }
  }
  return c1;
}

/**
 * Per row i < mc: lists[i kc ..] = (k * 96, a[k0+k, m0+i]) for its non-zero values in order of
 * k, one 8-byte store each (the entry after the last is written and not counted); counts[i] =
 * how many.
 */
function buildLists(a: usize, M: i32, m0: i32, mc: i32, k0: i32, kc: i32, lists: usize, counts: usize): void {
  const lda = <usize>M << 2, listBytes = <usize>kc << 3;
  let i = 0;
  for (; i + 4 <= mc; i += 4) {
    // four rows at a time down k, their list ends in registers (0.35 -> 0.24 ms for 1024 rows, k = 200)
    const l0 = lists + <usize>i * listBytes, l1 = l0 + listBytes, l2 = l1 + listBytes, l3 = l2 + listBytes;
    let n0: usize = 0, n1: usize = 0, n2: usize = 0, n3: usize = 0;
    let p = a + <usize>k0 * lda + (<usize>(m0 + i) << 2);
    for (let k = 0; k < kc; k++, p += lda) {
      const v = v128.load(p), offset = <u64>(k * SPARSE_NB * 4);
      const b0 = <u32>i32x4.extract_lane(v, 0), b1 = <u32>i32x4.extract_lane(v, 1);
      const b2 = <u32>i32x4.extract_lane(v, 2), b3 = <u32>i32x4.extract_lane(v, 3);
      store<u64>(l0 + n0, offset | (<u64>b0 << 32));
      store<u64>(l1 + n1, offset | (<u64>b1 << 32));
      store<u64>(l2 + n2, offset | (<u64>b2 << 32));
      store<u64>(l3 + n3, offset | (<u64>b3 << 32));
      n0 += <usize>isNonZero(b0) << 3;
      n1 += <usize>isNonZero(b1) << 3;
      n2 += <usize>isNonZero(b2) << 3;
      n3 += <usize>isNonZero(b3) << 3;
    }
    store<i32>(counts + (<usize>i << 2), <i32>(n0 >> 3));
    store<i32>(counts + (<usize>i << 2), <i32>(n1 >> 3), 4);
    store<i32>(counts + (<usize>i << 2), <i32>(n2 >> 3), 8);
    store<i32>(counts + (<usize>i << 2), <i32>(n3 >> 3), 12);
  }
  for (; i < mc; i++) {
    const l = lists + <usize>i * listBytes;
    let n: usize = 0, p = a + <usize>k0 * lda + (<usize>(m0 + i) << 2);
    for (let k = 0; k < kc; k++, p += lda) {
      const bits = load<u32>(p);
      store<u64>(l + n, <u64>(k * SPARSE_NB * 4) | (<u64>bits << 32));
      n += <usize>isNonZero(bits) << 3;
    }
    store<i32>(counts + (<usize>i << 2), <i32>(n >> 3));
  }
}

/** Whether the float32 with these bits is not +0 or -0 (NaN counts as non-zero). */
@inline export function isNonZero(bits: u32): bool {
  return (bits << 1) != 0;
}

/**
 * Packs b[k0..k0+kc, j..j+nb), nb <= 24, into bp (row k at bp + 96 k, zero past nb); false if
 * it holds a non-finite value.
 */
export function packBlock(b: usize, N: i32, j: i32, nb: i32, k0: i32, kc: i32, bp: usize): bool {
  const ldb = <usize>N << 2;
  let finite = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const p = b + <usize>(k0 + k) * ldb + (<usize>j << 2), q = bp + <usize>(k * SPARSE_NB * 4);
    if (nb == SPARSE_NB) {
      for (let v = 0; v < SPARSE_NB * 4; v += 16) {
        const x = v128.load(p + v);
        v128.store(q + v, x);
        finite = f32x4.add(finite, f32x4.sub(x, x)); // x - x is 0 for finite x, NaN otherwise
      }
    } else {
      for (let t = 0; t < SPARSE_NB; t++) {
        const x: f32 = t < nb ? load<f32>(p + (<usize>t << 2)) : 0;
        store<f32>(q + (<usize>t << 2), x);
        finite = f32x4.add(finite, f32x4.splat(x - x));
      }
    }
  }
  return v128.any_true(f32x4.ne(finite, finite)) == 0;
}

/** c[0..24) += (= when `overwrite`) sum over the list's entries (offset, x) of x * bp[offset ..+24), 6 accumulators. */
@inline export function rowTimesBlock(list: usize, n: i32, bp: usize, c: usize, overwrite: bool): void {
  // (6, not 8: V8 keeps 15 vector registers, and 8 accumulators + 8 loaded values spilled one to the stack)
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0);
  let c3 = f32x4.splat(0), c4 = f32x4.splat(0), c5 = f32x4.splat(0);
  const end = list + (<usize>n << 3);
  for (let p = list; p < end; p += 8) {
    const row = bp + <usize>load<i32>(p);
    const x = v128.load32_splat(p, 4);
    c0 = madd(x, v128.load(row), c0);
    c1 = madd(x, v128.load(row, 16), c1);
    c2 = madd(x, v128.load(row, 32), c2);
    c3 = madd(x, v128.load(row, 48), c3);
    c4 = madd(x, v128.load(row, 64), c4);
    c5 = madd(x, v128.load(row, 80), c5);
  }
  if (overwrite) {
    v128.store(c, c0); v128.store(c, c1, 16); v128.store(c, c2, 32);
    v128.store(c, c3, 48); v128.store(c, c4, 64); v128.store(c, c5, 80);
    return;
  }
  v128.store(c, f32x4.add(v128.load(c), c0));
  v128.store(c, f32x4.add(v128.load(c, 16), c1), 16);
  v128.store(c, f32x4.add(v128.load(c, 32), c2), 32);
  v128.store(c, f32x4.add(v128.load(c, 48), c3), 48);
  v128.store(c, f32x4.add(v128.load(c, 64), c4), 64);
  v128.store(c, f32x4.add(v128.load(c, 80), c5), 80);
}
