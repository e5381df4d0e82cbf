import { A_COLS_T, B_PLAIN, convGemm } from "./convGemm";
import { CONV_HEADER_BYTES, setGeometry } from "./convPack";

/**
 * conv2dBackwardFilter (contract): x [N,H,W,C], dy [N,Ho,Wo,Co], dw [kh,kw,C,Co];
 *   dw[ki,kj,ci,co] = sum_{n,i,j} x[n, i sh - ph + ki, j sw - pw + kj, ci] dy[n,i,j,co]
 * = im2col(x)^T[kh kw C, N Ho Wo] . dy[N Ho Wo, Co]; the long N Ho Wo dimension is the inner one.
 */
export function conv2dBackwardFilter(
  x: usize, dy: usize, dw: usize, N: i32, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, Co: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, rowChunk: i32, colChunk: i32, counter: usize, scratch: usize,
): void {
  setGeometry(scratch, x, H, W, C, Ho, Wo, kh, kw, sh, -ph, 1, sw, -pw, 1, 0);
  convGemm(A_COLS_T, B_PLAIN, scratch, dy, dw, kh * kw * C, Co, N * Ho * Wo, rowChunk, colChunk, counter, scratch + CONV_HEADER_BYTES);
}
