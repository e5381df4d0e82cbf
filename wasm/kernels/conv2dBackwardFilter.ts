import { A_COLS_T, B_PLAIN, convGemm } from "./convGemm";
import { FILTER_DIRECT, FILTER_DIRECT_PAD, filterDirect, padImages } from "./convDirectFilter";
import { CONV_HEADER_BYTES, setGeometry } from "./convPack";
import { winogradFilterGradient } from "./convWinograd";

/** The phase of the packed product (the others: convWinograd.ts's WINOGRAD_*, convDirectFilter.ts's FILTER_DIRECT_*). */
export const FILTER_GEMM = 0;

/**
 * conv2dBackwardFilter (contract): x [N,H,W,C], dy [N,Ho,Wo,Co], dw [kh,kw,C,Co];
 *   dw[ki,kj,ci,co] = sum_{n,i,j} x[n, i sh - ph + ki, j sw - pw + kj, ci] dy[n,i,j,co]
 * `phase` FILTER_GEMM: im2col(x)^T[kh kw C, N Ho Wo] . dy[N Ho Wo, Co], the long N Ho Wo
 * dimension the inner one, chunks of dw (rowChunk x colChunk) from `counter`. The WINOGRAD_*
 * phases (3x3, stride 1, C and Co multiples of 4): convWinograd.ts, on the tiles [tile0, tile0 +
 * tiles) and the shared `work` area, [start, end) a range of tiles or of input channels. For
 * fewer than 32 inputs per position, FILTER_DIRECT_PAD (images [start, end) padded into `work`)
 * then FILTER_DIRECT (blocks of 8 filters [start, end)): convDirectFilter.ts.
 */
export function conv2dBackwardFilter(
  x: usize, dy: usize, dw: usize, N: i32, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, Co: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, rowChunk: i32, colChunk: i32, counter: usize,
  phase: i32, tile0: i32, tiles: i32, work: usize, start: i32, end: i32, scratch: usize,
): void {
  if (phase == FILTER_DIRECT_PAD) return padImages(x, H, W, C, ph, pw, work, start, end);
  if (phase == FILTER_DIRECT) return filterDirect(work, dy, dw, N, H, W, C, Ho, Wo, Co, kh, kw, sh, sw, ph, pw, start, end, scratch);
  if (phase != FILTER_GEMM) {
    winogradFilterGradient(x, dy, dw, N, H, W, C, Ho, Wo, Co, ph, pw, phase, tile0, tiles, work, counter, start, end, scratch);
    return;
  }
  setGeometry(scratch, x, H, W, C, Ho, Wo, kh, kw, sh, -ph, 1, sw, -pw, 1, 0);
  convGemm(A_COLS_T, B_PLAIN, scratch, dy, dw, kh * kw * C, Co, N * Ho * Wo, rowChunk, colChunk, counter, scratch + CONV_HEADER_BYTES);
}
