/**
 * The matrix product behind the three convolution kernels: matmul's method (GotoBLAS-style
 * cache blocks, packed panels, the 4x8 micro-kernel, chunks of the output taken from a shared
 * counter) with the operands packed straight from the images (convPack.ts):
 *   a: A_ROWS  = im2col rows (conv2d, conv2dBackwardInput)   A_COLS_T = im2col^T (conv2dBackwardFilter)
 *   b: B_PLAIN = a row-major [K, N] matrix (w, or dy)         B_FLIPPED = the flipped filters (conv2dBackwardInput)
 * out[M, N] = a . b, overwritten. `work` is the scratch after the geometry header: the dense
 * path's DENSE_SCRATCH_BYTES, then (the filter gradient's sparse path, convSparse.ts, for an
 * input x that is mostly zeros) SPARSE_SCRATCH_BYTES.
 */
import { DENSE_SCRATCH_BYTES, firstBlock, multiplyPanels, zeroBlock } from "./matmul";
import { panelLooksSparse, sparsePanelRows } from "./convSparse";
import { KC, MC, NR, packB } from "./matmulPack";
import { packConvColsT, packConvRows, packFlippedFilter } from "./convPack";

export const A_ROWS = 0;
export const A_COLS_T = 1;
export const B_PLAIN = 0;
export const B_FLIPPED = 1;

export function convGemm(
  aMode: i32, bMode: i32, g: usize, b: usize, out: usize, M: i32, N: i32, K: i32,
  rowChunk: i32, colChunk: i32, counter: usize, work: usize,
): void {
  const colChunks = (N + colChunk - 1) / colChunk;
  const chunks = ((M + rowChunk - 1) / rowChunk) * colChunks;
  for (let t = atomic.add<i32>(counter, 1); t < chunks; t = atomic.add<i32>(counter, 1)) {
    const r0 = (t / colChunks) * rowChunk, c0 = (t % colChunks) * colChunk;
    block(aMode, bMode, g, b, out, N, K, r0, min(M, r0 + rowChunk), c0, min(N, c0 + colChunk), work);
  }
}

/** Rows [r0, r1) x columns [c0, c1) of out. */
function block(aMode: i32, bMode: i32, g: usize, b: usize, out: usize, N: i32, K: i32,
  r0: i32, r1: i32, c0: i32, c1: i32, work: usize): void {
  if (K <= 0) zeroBlock(out, N, r0, r1, c0, c1);
  const ap = work, bp = ap + <usize>(MC * KC * 4), edge = bp + <usize>(2 * KC * NR * 4);
  const ldc = <usize>N << 2;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0), overwrite = firstBlock(false, k0);
    for (let m0 = r0; m0 < r1; m0 += MC) {
      const mc = min(MC, r1 - m0);
      if (aMode == A_ROWS) packConvRows(g, m0, mc, k0, kc, ap);
      else packConvColsT(g, m0, mc, k0, kc, ap);
      let j = c0;
      if (aMode == A_COLS_T && bMode == B_PLAIN && panelLooksSparse(ap, mc, kc, c1 - c0)) {
        j = sparsePanelRows(ap, b, out, N, m0, mc, k0, kc, c0, c1, work + <usize>DENSE_SCRATCH_BYTES, overwrite);
      }
      for (; j < c1; j += 2 * NR) {
        const nb = min(2 * NR, c1 - j);
        if (bMode == B_PLAIN) packB(b, N, j, nb, k0, kc, bp);
        else packFlippedFilter(g, N, j, nb, k0, kc, bp);
        multiplyPanels(ap, bp, kc, mc, nb, out + <usize>m0 * ldc + (<usize>j << 2), ldc, edge, overwrite);
      }
    }
  }
}
