/**
 * conv2dBackwardFilter's product for few inputs per position (K = kh kw C below 32: a first
 * layer's 3 x 3 x 3), without im2col^T's packing (convDirect.ts does the same for conv2d):
 *   dw[k, co] = sum_{p = 0..P-1} patch[p, k] dy[p, co],  P = N Ho Wo,  k = (ki kw + kj) C + ci
 *   patch[p, k] = xp[n, i sh + ki, j sw + kj, ci]  (p = (n Ho + i) Wo + j, xp the padded images)
 * Two phases:
 * - FILTER_DIRECT_PAD: images [start, end) padded into the shared area (convDirect.ts's padImage);
 * - FILTER_DIRECT: blocks of 8 filters [start, end) per thread; dw's rows in blocks of 4 x 8
 *   filters, summed over the positions in blocks of KC = 256 from 0 by madd, each block's sum
 *   then added to dw (zeroed first).
 * These are convGemm's float32 operations in its order (its k loop is the positions' blocks of
 * KC; its 4 x 8 micro-kernel sums a block from 0, then adds the sum to the zeroed output), so
 * the bits are the packed product's. Co must be a multiple of 8 (the host's condition).
 */
import { padImage } from "./convDirect";
import { madd } from "./madd";
import { KC } from "./matmulPack";

/** conv2dBackwardFilter's phases of this product (after FILTER_GEMM 0 and Winograd's 1 to 4). */
export const FILTER_DIRECT_PAD: i32 = 5;
export const FILTER_DIRECT: i32 = 6;

/** FILTER_DIRECT_PAD: images [n0, n1) of x [N, H, W, C] into padded [N, H + 2 ph, W + 2 pw, C]. */
export function padImages(x: usize, H: i32, W: i32, C: i32, ph: i32, pw: i32, padded: usize, n0: i32, n1: i32): void {
  const image = <usize>H * <usize>W * <usize>C, paddedImage = <usize>(H + 2 * ph) * <usize>(W + 2 * pw) * <usize>C;
  for (let n = n0; n < n1; n++) padImage(x + ((<usize>n * image) << 2), H, W, C, ph, pw, padded + ((<usize>n * paddedImage) << 2));
}

/**
 * FILTER_DIRECT: the blocks of 8 filters [cb0, cb1). The positions' blocks are the outer loop,
 * so that a block of dy (KC positions) is read from memory once for all the thread's filters.
 * `offsets`: the thread's scratch for the byte offsets of the K inputs from a position's corner
 * in its padded image (rounded up to 4, the missing ones repeating the block's first: computed,
 * never stored).
 */
export function filterDirect(
  padded: usize, dy: usize, dw: usize, N: i32, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, Co: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, cb0: i32, cb1: i32, offsets: usize,
): void {
  const hp = H + 2 * ph, wp = W + 2 * pw, K = kh * kw * C, kBlocks = (K + 3) >> 2;
  for (let k = 0; k < kBlocks << 2; k++) {
    const kk = k < K ? k : k & ~3, ci = kk % C, tap = kk / C;
    store<i32>(offsets + (<usize>k << 2), (((tap / kw) * wp + tap % kw) * C + ci) << 2);
  }
  for (let k = 0; k < K; k++)
    for (let co = cb0 << 3; co < cb1 << 3; co += 4) v128.store(dw + ((<usize>k * <usize>Co + <usize>co) << 2), f32x4.splat(0));
  const positions = N * Ho * Wo;
  for (let p0 = 0; p0 < positions; p0 += KC) {
    const p1 = min(p0 + KC, positions);
    for (let cb = cb0; cb < cb1; cb++) {
      const co = cb << 3;
      for (let kb = 0; kb < kBlocks; kb++) {
        const o = offsets + (<usize>kb << 4);
        blockSums(padded, dy, hp, wp, C, Ho, Wo, Co, sh, sw, co, p0, p1, o, dw + ((<usize>(kb << 2) * <usize>Co + <usize>co) << 2), min(4, K - (kb << 2)));
      }
    }
  }
}

/**
 * Rows 4 kb .. 4 kb + rows - 1 (input offsets at o) x filters co..co+7 of dw (at d, rows Co
 * apart): the sums over positions [p0, p1) from 0, walked by runs of one output row, then added
 * to d.
 */
function blockSums(
  padded: usize, dy: usize, hp: i32, wp: i32, C: i32, Ho: i32, Wo: i32, Co: i32, sh: i32, sw: i32,
  co: i32, p0: i32, p1: i32, o: usize, d: usize, rows: i32,
): void {
  const o0 = <usize>load<i32>(o), o1 = <usize>load<i32>(o, 4), o2 = <usize>load<i32>(o, 8), o3 = <usize>load<i32>(o, 12);
  const step = <usize>(sw * C) << 2, gStep = <usize>Co << 2;
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const grid = Ho * Wo;
  let p = p0, n = p0 / grid, i = (p0 % grid) / Wo, j = p0 % Wo;
  while (p < p1) {
    const run = min(Wo - j, p1 - p);
    let q = padded + ((((<usize>n * <usize>hp + <usize>(i * sh)) * <usize>wp + <usize>(j * sw)) * <usize>C) << 2);
    let g = dy + ((<usize>p * <usize>Co + <usize>co) << 2);
    const end = g + <usize>run * gStep;
    while (g < end) {
      const b0 = v128.load(g), b1 = v128.load(g, 16);
      let a = v128.load32_splat(q + o0);
      c00 = madd(a, b0, c00);
      c01 = madd(a, b1, c01);
      a = v128.load32_splat(q + o1);
      c10 = madd(a, b0, c10);
      c11 = madd(a, b1, c11);
      a = v128.load32_splat(q + o2);
      c20 = madd(a, b0, c20);
      c21 = madd(a, b1, c21);
      a = v128.load32_splat(q + o3);
      c30 = madd(a, b0, c30);
      c31 = madd(a, b1, c31);
      q += step;
      g += gStep;
    }
    p += run;
    j += run;
    if (j == Wo) {
      j = 0;
      if (++i == Ho) {
        i = 0;
        n++;
      }
    }
  }
  const ld = <usize>Co << 2;
  addSums(d, c00, c01);
  if (rows > 1) addSums(d + ld, c10, c11);
  if (rows > 2) addSums(d + 2 * ld, c20, c21);
  if (rows > 3) addSums(d + 3 * ld, c30, c31);
}

@inline function addSums(d: usize, lo: v128, hi: v128): void {
  v128.store(d, f32x4.add(v128.load(d), lo));
  v128.store(d, f32x4.add(v128.load(d, 16), hi), 16);
}
