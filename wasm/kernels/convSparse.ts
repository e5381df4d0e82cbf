/**
 * conv2dBackwardFilter's path for an input that is mostly zeros (a ReLU's output: the input of
 * every convolution after the first): matmul's sparse weight-gradient path (matmulSparse.ts)
 * over the packed im2col^T panel. For a block of rows [m0, m0+mc) of dw (tap, channel) and
 * positions [k0, k0+kc):
 *
 *   dw[i, j] += sum over positions k with x(k, i) != 0 of x(k, i) * dy[k, j]
 *
 * in the order of k and with the multiply-add of the dense micro-kernel (convGemm.ts's), so the
 * same bits (a skipped term is +-0, and a sum that starts at +0 never becomes -0); a column
 * block of dy holding a non-finite value goes back to the dense path (0 * inf = NaN).
 * From MIN_COLS filters. The lists are read from the panel packConvColsT wrote (4 rows x kc, a row's value of
 * position kk at ap + (i kc + 4 kk + i % 4) * 4 for the group of 4 rows at i).
 */
import { isNonZero, listCounts, listsTimesB, MAX_DENSITY, SAMPLE_STEPS, SPARSE_NB } from "./matmulSparse";

/**
 * Fewer filters stay dense. Half zeros, batch 50, 3x3 (1 and 2 threads, best of 3-8 calls,
 * 2026-12-04): 32 -> 64 at 32x32 0.84-0.87x the dense time's speed, 64 -> 64 at 16x16
 * 0.94-1.05x; 128 -> 128 at 8x8 1.22-1.24x, at 32x32 1.02-1.05x; 256 -> 256 at 16x16
 * 1.31-1.37x; 512 -> 512 at 8x8 1.37x.
 */
const MIN_COLS = 128;

/** Whether the packed panel's block (mc rows x kc positions) looks sparse enough, from its first positions, for `cols` columns of dw. */
export function panelLooksSparse(ap: usize, mc: i32, kc: i32, cols: i32): bool {
  if (cols < MIN_COLS) return false;
  const steps = min(SAMPLE_STEPS, kc);
  let zeros = 0;
  for (let i = 0; i < mc; i += 4) {
    const panel = ap + <usize>i * <usize>kc * 4, rows = min(4, mc - i);
    for (let k = 0; k < steps; k++) {
      for (let r = 0; r < rows; r++) zeros += i32(load<f32>(panel + (<usize>k << 4) + (<usize>r << 2)) == 0);
    }
  }
  return <f32>(steps * mc - zeros) <= MAX_DENSITY * <f32>(steps * mc);
}

/**
 * out[m0.., c0..c1) += panel^T . b over positions [k0, k0+kc), for the column blocks of 24 that
 * b (dy, [K, N]) holds only finite values in. Returns the first column it did not do (c1 when
 * it did them all): the caller runs the dense path from there. `scratch`: SPARSE_SCRATCH_BYTES.
 */
export function sparsePanelRows(
  ap: usize, b: usize, out: usize, N: i32, m0: i32, mc: i32, k0: i32, kc: i32, c0: i32, c1: i32, scratch: usize, overwrite: bool,
): i32 {
  buildPanelLists(ap, mc, kc, scratch, listCounts(scratch, mc, kc));
  return listsTimesB(b, out, N, m0, mc, k0, kc, c0, c1, scratch, overwrite);
}

/** Per row i < mc: lists[i kc ..] = (k * 96, value) for its non-zero values in order of k (as matmulSparse's buildLists); counts[i] = how many. */
function buildPanelLists(ap: usize, mc: i32, kc: i32, lists: usize, counts: usize): void {
  const listBytes = <usize>kc << 3;
  for (let i = 0; i < mc; i += 4) {
    const l0 = lists + <usize>i * listBytes, l1 = l0 + listBytes, l2 = l1 + listBytes, l3 = l2 + listBytes;
    let n0: usize = 0, n1: usize = 0, n2: usize = 0, n3: usize = 0;
    let p = ap + <usize>i * <usize>kc * 4;
    for (let k = 0; k < kc; k++, p += 16) {
      const v = v128.load(p), offset = <u64>(k * SPARSE_NB * 4);
      const b0 = <u32>i32x4.extract_lane(v, 0), b1 = <u32>i32x4.extract_lane(v, 1);
      const b2 = <u32>i32x4.extract_lane(v, 2), b3 = <u32>i32x4.extract_lane(v, 3);
      store<u64>(l0 + n0, offset | (<u64>b0 << 32));
      n0 += <usize>isNonZero(b0) << 3;
      if (i + 1 < mc) {
        store<u64>(l1 + n1, offset | (<u64>b1 << 32));
        n1 += <usize>isNonZero(b1) << 3;
      }
      if (i + 2 < mc) {
        store<u64>(l2 + n2, offset | (<u64>b2 << 32));
        n2 += <usize>isNonZero(b2) << 3;
      }
      if (i + 3 < mc) {
        store<u64>(l3 + n3, offset | (<u64>b3 << 32));
        n3 += <usize>isNonZero(b3) << 3;
      }
    }
    store<i32>(counts + (<usize>i << 2), <i32>(n0 >> 3));
    if (i + 1 < mc) store<i32>(counts + (<usize>i << 2), <i32>(n1 >> 3), 4);
    if (i + 2 < mc) store<i32>(counts + (<usize>i << 2), <i32>(n2 >> 3), 8);
    if (i + 3 < mc) store<i32>(counts + (<usize>i << 2), <i32>(n3 >> 3), 12);
  }
}
