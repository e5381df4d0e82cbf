import { A_ROWS, B_FLIPPED, convGemm } from "./convGemm";
import { CONV_HEADER_BYTES, setGeometry } from "./convPack";

/**
 * conv2dBackwardInput (contract): dy [N,Ho,Wo,Co], w [kh,kw,C,Co], dx [N,H,W,C];
 *   dx[n,r,c,ci] = sum dy[n,i,j,co] w[ki,kj,ci,co] over i = (r + ph - ki)/sh, j = (c + pw - kj)/sw integer and in range.
 * Computed as a convolution of dy over the input grid with the flipped, transposed filters:
 * with ki' = kh-1-ki, i = (r + ph - (kh-1) + ki') / sh, so dx[N H W, C] = im2col'(dy)[N H W,
 * kh kw Co] . w'[kh kw Co, C] (a stride > 1 makes the taps that fall between strides zeros).
 */
export function conv2dBackwardInput(
  dy: usize, w: usize, dx: usize, N: i32, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, Co: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, rowChunk: i32, colChunk: i32, counter: usize, scratch: usize,
): void {
  setGeometry(scratch, dy, Ho, Wo, Co, H, W, kh, kw, 1, ph - (kh - 1), sh, 1, pw - (kw - 1), sw, w);
  convGemm(A_ROWS, B_FLIPPED, scratch, 0, dx, N * H * W, C, kh * kw * Co, rowChunk, colChunk, counter, scratch + CONV_HEADER_BYTES);
}
