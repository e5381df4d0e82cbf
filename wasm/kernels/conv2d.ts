import { A_ROWS, B_PLAIN, convGemm } from "./convGemm";
import { CONV_HEADER_BYTES, setGeometry } from "./convPack";

/**
 * conv2d (contract): x [N,H,W,C], w [kh,kw,C,Co], out [N,Ho,Wo,Co];
 *   out[n,i,j,co] = sum_{ki,kj,ci} x[n, i sh - ph + ki, j sw - pw + kj, ci] w[ki,kj,ci,co]
 * = im2col(x)[N Ho Wo, kh kw C] . w[kh kw C, Co], with im2col packed on the fly (convPack.ts)
 * and matmul's micro-kernel; float32 accumulation. Threads share chunks of out through
 * `counter` (as matmul). `scratch`: the thread's CONV_HEADER_BYTES + DENSE_SCRATCH_BYTES (matmul.ts).
 */
export function conv2d(
  x: usize, w: usize, out: usize, N: i32, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, Co: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, rowChunk: i32, colChunk: i32, counter: usize, scratch: usize,
): void {
  setGeometry(scratch, x, H, W, C, Ho, Wo, kh, kw, sh, -ph, 1, sw, -pw, 1, 0);
  convGemm(A_ROWS, B_PLAIN, scratch, w, out, N * Ho * Wo, Co, kh * kw * C, rowChunk, colChunk, counter, scratch + CONV_HEADER_BYTES);
}
