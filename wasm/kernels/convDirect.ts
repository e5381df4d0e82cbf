/**
 * conv2d's float product for few inputs per position (K = kh kw C at most DIRECT_MAX_INPUTS: a
 * first layer's 3 x 3 x 3), without im2col's packing, which costs more than the product when
 * K is this short. The inputs' offsets in a padded image first (K i32 at the start of the
 * thread's scratch), then images from the shared counter; per image:
 *   1. the image padded into the thread's scratch (ph rows and pw columns of zeros around it:
 *      the zeros im2col gives outside the image);
 *   2. blocks of 4 output positions of a row x 8 filters, the filters' rows read straight from
 *      w [K, Co]:
 *        out[n,i,j,co] = 0 + sum_{k = 0..K-1 in order} xp[i sh + ki, j sw + kj, ci] w[k, co]
 *        k = (ki kw + kj) C + ci, xp the padded image
 *      each term by madd (one fused multiply-add with relaxed SIMD), from a sum of 0.
 * These are convGemm's float32 operations in its order for K <= KC (one block of k: its 4 x 8
 * micro-kernel sums from 0 over k, then adds the sum to the zeroed output), so the bits are the
 * float product's. Co must be a multiple of 8 (the host's condition).
 */
import { madd } from "./madd";

/** conv2d's phase of this product (after CONV_GEMM 0, the lookup tables' 1 and 2, Winograd's 3 and 4). */
export const CONV_DIRECT: i32 = 5;
/** The largest K = kh kw C this product takes (within one k block of convGemm, KC = 256). */
export const DIRECT_MAX_INPUTS: i32 = 32;

export function convDirect(
  x: usize, w: usize, out: usize, N: i32, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, Co: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, counter: usize, scratch: usize,
): void {
  const wp = W + 2 * pw, K = kh * kw * C;
  const offsets = scratch, padded = scratch + (<usize>K << 2);
  for (let ki = 0; ki < kh; ki++)
    for (let kj = 0; kj < kw; kj++)
      for (let ci = 0; ci < C; ci++) store<i32>(offsets + (<usize>((ki * kw + kj) * C + ci) << 2), ((ki * wp + kj) * C + ci) << 2);
  const step = <usize>(sw * C) << 2, wRow = <usize>Co << 2;
  for (let n = atomic.add<i32>(counter, 1); n < N; n = atomic.add<i32>(counter, 1)) {
    padImage(x + ((<usize>n * <usize>H * <usize>W * <usize>C) << 2), H, W, C, ph, pw, padded);
    const o = out + ((<usize>n * <usize>Ho * <usize>Wo * <usize>Co) << 2);
    for (let co = 0; co < Co; co += 8) {
      const wk = w + (<usize>co << 2);
      for (let i = 0; i < Ho; i++) {
        const row = padded + ((<usize>(i * sh) * <usize>wp * <usize>C) << 2);
        const dst = o + ((<usize>i * <usize>Wo * <usize>Co + <usize>co) << 2);
        let j = 0;
        for (; j + 4 <= Wo; j += 4) fourPositions(row + <usize>j * step, step, offsets, K, wk, wRow, dst + ((<usize>j * <usize>Co) << 2), <usize>Co << 2);
        for (; j < Wo; j++) onePosition(row + <usize>j * step, offsets, K, wk, wRow, dst + ((<usize>j * <usize>Co) << 2));
      }
    }
  }
}

/** The image [H, W, C] at src into dst [H + 2 ph, W + 2 pw, C], zeros around it. */
export function padImage(src: usize, H: i32, W: i32, C: i32, ph: i32, pw: i32, dst: usize): void {
  const wp = W + 2 * pw, rowBytes = (<usize>W * <usize>C) << 2, paddedRowBytes = (<usize>wp * <usize>C) << 2;
  const hp = H + 2 * ph;
  memory.fill(dst, 0, <usize>ph * paddedRowBytes);
  memory.fill(dst + <usize>(ph + H) * paddedRowBytes, 0, <usize>(hp - ph - H) * paddedRowBytes);
  const side = (<usize>pw * <usize>C) << 2;
  for (let i = 0; i < H; i++) {
    const d = dst + <usize>(ph + i) * paddedRowBytes;
    memory.fill(d, 0, side);
    memory.copy(d + side, src + <usize>i * rowBytes, rowBytes);
    memory.fill(d + side + rowBytes, 0, side);
  }
}

/**
 * Output positions j..j+3 of a row x 8 filters: p = position j's corner in the padded image
 * (position j + t at p + t step), the K inputs at p + offsets[k], filter row k at wk + k wRow,
 * position j + t's 8 sums to dst + t ld.
 */
function fourPositions(p: usize, step: usize, offsets: usize, K: i32, wk: usize, wRow: usize, dst: usize, ld: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const end = offsets + (<usize>K << 2);
  let b = wk;
  for (let k = offsets; k < end; k += 4) {
    const q = p + <usize>load<i32>(k);
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let a = v128.load32_splat(q);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(q + step);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(q + 2 * step);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(q + 3 * step);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    b += wRow;
  }
  storeSums(dst, c00, c01);
  storeSums(dst + ld, c10, c11);
  storeSums(dst + 2 * ld, c20, c21);
  storeSums(dst + 3 * ld, c30, c31);
}

/** One output position x 8 filters (a row's last Wo % 4 positions), as fourPositions. */
function onePosition(p: usize, offsets: usize, K: i32, wk: usize, wRow: usize, dst: usize): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  const end = offsets + (<usize>K << 2);
  let b = wk;
  for (let k = offsets; k < end; k += 4) {
    const a = v128.load32_splat(p + <usize>load<i32>(k));
    c0 = madd(a, v128.load(b), c0);
    c1 = madd(a, v128.load(b, 16), c1);
    b += wRow;
  }
  storeSums(dst, c0, c1);
}

/** out = 0 + sum (convGemm's zeroed output plus the micro-kernel's sum: -0 becomes +0). */
@inline function storeSums(d: usize, lo: v128, hi: v128): void {
  const zero = f32x4.splat(0);
  v128.store(d, f32x4.add(zero, lo));
  v128.store(d, f32x4.add(zero, hi), 16);
}

