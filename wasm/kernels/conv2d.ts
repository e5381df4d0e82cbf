import { A_ROWS, B_PLAIN, convGemm } from "./convGemm";
import { CONV_LUT_PACK, CONV_LUT_PRODUCT, convLutProduct, packForwardSigns } from "./convLut";
import { CONV_DIRECT, convDirect } from "./convDirect";
import { CONV_HEADER_BYTES, setGeometry } from "./convPack";
import { WINOGRAD_FILTERS, WINOGRAD_SIGN_TILES, WINOGRAD_SIGNS, WINOGRAD_TILES, winogradFilters, winogradTiles } from "./convWinogradProduct";
import { winogradSigns } from "./convWinogradSigns";

/**
 * conv2d (contract): x [N,H,W,C], w [kh,kw,C,Co], out [N,Ho,Wo,Co];
 *   out[n,i,j,co] = sum_{ki,kj,ci} x[n, i sh - ph + ki, j sw - pw + kj, ci] w[ki,kj,ci,co]
 * = im2col(x)[N Ho Wo, kh kw C] . w[kh kw C, Co], with im2col packed on the fly (convPack.ts).
 * `phase`: CONV_GEMM, matmul's micro-kernel, float32 accumulation, threads sharing chunks of
 * out (rowChunk x colChunk) through `counter` (as matmul); or, for binary filters (w = +-H),
 * the lookup tables' two phases (convLut.ts: CONV_LUT_PACK the signs of filters [start, end)
 * into `bits`, CONV_LUT_PRODUCT blocks of 16 output positions through `counter`, additions only).
 * Or, for a 3x3 stride-1 filter, Winograd's F(4x4, 3x3) (convWinogradProduct.ts: WINOGRAD_FILTERS
 * the filters' transforms for input channels [start, end) into `bits`, the shared work area, then
 * WINOGRAD_TILES blocks of rowChunk tiles through `counter`; for large binary filters,
 * WINOGRAD_SIGNS their signs into `bits`, then WINOGRAD_SIGN_TILES, each term of the transforms
 * filled from them before its product: convWinogradSigns.ts). Or, for few inputs per position,
 * CONV_DIRECT: the float product without packing, images through `counter` (convDirect.ts).
 * `scratch`: the thread's CONV_HEADER_BYTES + DENSE_SCRATCH_BYTES (matmul.ts), or
 * + convLutScratchBytes for CONV_LUT_PRODUCT, or winogradFilterScratchBytes (WINOGRAD_FILTERS),
 * or winogradProductScratchBytes (WINOGRAD_TILES), or one padded image for CONV_DIRECT.
 */
export function conv2d(
  x: usize, w: usize, out: usize, N: i32, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, Co: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, rowChunk: i32, colChunk: i32, counter: usize,
  bits: usize, phase: i32, start: i32, end: i32, scratch: usize,
): void {
  if (phase == CONV_LUT_PACK) {
    packForwardSigns(w, kh * kw * C, Co, bits, start, end);
    return;
  }
  if (phase == WINOGRAD_FILTERS) return winogradFilters(w, bits, C, Co, false, start, end, scratch);
  if (phase == CONV_DIRECT) return convDirect(x, w, out, N, H, W, C, Ho, Wo, Co, kh, kw, sh, sw, ph, pw, counter, scratch);
  if (phase == WINOGRAD_SIGNS) return winogradSigns(w, bits, C, Co, false, start, end);
  if (phase == WINOGRAD_TILES || phase == WINOGRAD_SIGN_TILES) {
    return winogradTiles(x, bits, out, N, H, W, C, Ho, Wo, Co, ph, pw, rowChunk, counter, scratch, phase == WINOGRAD_SIGN_TILES ? w : 0);
  }
  setGeometry(scratch, x, H, W, C, Ho, Wo, kh, kw, sh, -ph, 1, sw, -pw, 1, 0);
  const work = scratch + CONV_HEADER_BYTES;
  if (phase == CONV_LUT_PRODUCT) convLutProduct(scratch, bits, abs<f32>(load<f32>(w)), out, N * Ho * Wo, Co, kh * kw * C, counter, work);
  else convGemm(A_ROWS, B_PLAIN, scratch, w, out, N * Ho * Wo, Co, kh * kw * C, rowChunk, colChunk, counter, work);
}
