import { A_ROWS, B_FLIPPED, convGemm } from "./convGemm";
import { CONV_LUT_PACK, CONV_LUT_PRODUCT, convLutProduct, packFlippedSigns } from "./convLut";
import { CONV_HEADER_BYTES, setGeometry } from "./convPack";
import { WINOGRAD_FILTERS, WINOGRAD_SIGN_TILES, WINOGRAD_SIGNS, WINOGRAD_TILES, winogradFilters, winogradTiles } from "./convWinogradProduct";
import { winogradSigns } from "./convWinogradSigns";

/**
 * conv2dBackwardInput (contract): dy [N,Ho,Wo,Co], w [kh,kw,C,Co], dx [N,H,W,C];
 *   dx[n,r,c,ci] = sum dy[n,i,j,co] w[ki,kj,ci,co] over i = (r + ph - ki)/sh, j = (c + pw - kj)/sw integer and in range.
 * Computed as a convolution of dy over the input grid with the flipped, transposed filters:
 * with ki' = kh-1-ki, i = (r + ph - (kh-1) + ki') / sh, so dx[N H W, C] = im2col'(dy)[N H W,
 * kh kw Co] . w'[kh kw Co, C] (a stride > 1 makes the taps that fall between strides zeros).
 * `phase` as conv2d's: the float product (CONV_GEMM), or for binary filters the lookup tables
 * (convLut.ts: CONV_LUT_PACK the signs of w' for input channels [start, end), CONV_LUT_PRODUCT),
 * or for a 3x3 stride-1 filter Winograd's F(4x4, 3x3) on the flipped filters and the padding
 * 2 - p (convWinogradProduct.ts: WINOGRAD_FILTERS for dy's channels [start, end), WINOGRAD_TILES;
 * or for large binary filters WINOGRAD_SIGNS, then WINOGRAD_SIGN_TILES: convWinogradSigns.ts).
 */
export function conv2dBackwardInput(
  dy: usize, w: usize, dx: usize, N: i32, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, Co: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, rowChunk: i32, colChunk: i32, counter: usize,
  bits: usize, phase: i32, start: i32, end: i32, scratch: usize,
): void {
  if (phase == CONV_LUT_PACK) {
    packFlippedSigns(w, C, Co, kh, kw, bits, start, end);
    return;
  }
  if (phase == WINOGRAD_FILTERS) return winogradFilters(w, bits, Co, C, true, start, end, scratch);
  if (phase == WINOGRAD_SIGNS) return winogradSigns(w, bits, Co, C, true, start, end);
  if (phase == WINOGRAD_TILES || phase == WINOGRAD_SIGN_TILES) {
    return winogradTiles(dy, bits, dx, N, Ho, Wo, Co, H, W, C, 2 - ph, 2 - pw, rowChunk, counter, scratch, phase == WINOGRAD_SIGN_TILES ? w : 0);
  }
  setGeometry(scratch, dy, Ho, Wo, Co, H, W, kh, kw, 1, ph - (kh - 1), sh, 1, pw - (kw - 1), sw, w);
  const work = scratch + CONV_HEADER_BYTES;
  if (phase == CONV_LUT_PRODUCT) convLutProduct(scratch, bits, abs<f32>(load<f32>(w)), dx, N * H * W, C, kh * kw * Co, counter, work);
  else convGemm(A_ROWS, B_FLIPPED, scratch, 0, dx, N * H * W, C, kh * kw * Co, rowChunk, colChunk, counter, work);
}
