/**
 * The product of a 3x3, stride-1 convolution (conv2d, and conv2dBackwardInput as the convolution
 * of dy with the flipped, transposed filters) by Winograd's minimal filtering F(4x4, 3x3) (Lavin
 * & Gray, "Fast algorithms for convolutional neural networks", 2016). The output is cut into tiles
 * of 4 x 4; tile t of image i reads the 6 x 6 patch X_t of the input whose corner is the tile's
 * corner less the padding (rows and columns outside the input read as 0), and
 *
 *   Y_t[., ., n] = A^T [ sum_k (B^T X_t[k] B) (.) (G g[k, n] G^T) ] A      ((.) elementwise)
 *
 * for every output channel n, the sum over the input channels k, g[k, n] the 3 x 3 filter from k
 * to n, and B^T (6x6), G (6x3), A^T (4x6) those of F(4x4, 3x3). The sum is 36 matrix products
 * M_e[t, n] = sum_k V_e[t, k] U_e[k, n], V_e[t, k] = (B^T X_t[k] B)[e], U_e[k, n] = (G g[k, n] G^T)[e]:
 * matmul's blocks (matmul.ts). 9 x 16 = 144 multiply-adds per tile and channel pair become 36.
 *
 * conv2d: the input x, k = ci, n = co, g[k, n][a][b] = w[a, b, ci, co], the padding (ph, pw).
 * conv2dBackwardInput: the input dy, k = co, n = ci, g[k, n][a][b] = w[2 - a, 2 - b, ci, co]
 * (flipped), the padding (2 - ph, 2 - pw): dx[r, c] = sum dy[r + ph - a, c + pw - b] w[a, b].
 *
 * Two phases of the convolution exports:
 * - WINOGRAD_FILTERS: U (the shared work area `u`, [36][K][Nc] floats) for inputs k in [start, end);
 * - WINOGRAD_TILES: blocks of `block` tiles taken from the work counter, each by one thread from
 *   its start to its outputs (V, the 36 products, A^T M A): every output is computed by one thread
 *   in one order, so any number of threads gives the same bits.
 * The float32 sums run in another order than the direct product's, and the transforms round:
 * the outputs differ from it in the last bits (tested against the reference with a tolerance).
 * K and Nc multiples of 4 (the transforms take 4 channels at a time).
 */
import { DENSE_SCRATCH_BYTES, matmulBlock } from "./matmul";
import { termFloats, transformPatch } from "./convWinograd";

/** The phases of conv2d's and conv2dBackwardInput's exports that run Winograd's product (after convLut.ts's). */
export const WINOGRAD_FILTERS = 3;
export const WINOGRAD_TILES = 4;

const TILE: i32 = 4;
const TERMS: i32 = 36;
/** Bytes of the transforms' own scratch: a 6 x 6 patch of f32x4, then a 4 x 6 half-transformed tile and a 4 x 4 one. */
const PATCH_BYTES: i32 = (TERMS + 24 + 16) * 16;

/** Bytes of per-thread scratch of WINOGRAD_TILES for blocks of `block` tiles, K input and Nc output channels. */
export function winogradProductScratchBytes(block: i32, K: i32, Nc: i32): i32 {
  return DENSE_SCRATCH_BYTES + PATCH_BYTES + TERMS * (termFloats(block, K) + termFloats(block, Nc)) * 4;
}

/**
 * U[e][k][n] = (G g[k, n] G^T)[e] for k in [start, end), every n, 4 at a time. w [3,3,C,Co];
 * `flipped`: conv2dBackwardInput's filters (K = Co, Nc = C), else conv2d's (K = C, Nc = Co).
 */
export function winogradFilters(w: usize, u: usize, K: i32, Nc: i32, flipped: bool, start: i32, end: i32, scratch: usize): void {
  const termBytes = <usize>K * <usize>Nc << 2;
  const g = scratch, half = scratch + 9 * 16;
  for (let k = start; k < end; k++) {
    for (let n = 0; n < Nc; n += 4) {
      for (let a = 0; a < 3; a++) {
        for (let b = 0; b < 3; b++) {
          v128.store(g + <usize>((a * 3 + b) << 4), flipped ? flippedTaps(w, K, Nc, 2 - a, 2 - b, k, n) : v128.load(w + ((<usize>((a * 3 + b) * K + k) * <usize>Nc + <usize>n) << 2)));
        }
      }
      // columns: G g (3 -> 6 down each of the 3 columns), then rows: (G g) G^T (3 -> 6 along each of the 6 rows)
      for (let b = 0; b < 3; b++) filterTransform(g + <usize>(b << 4), 3 * 16, half + <usize>(b << 4), 3 * 16);
      const out = u + ((<usize>k * <usize>Nc + <usize>n) << 2);
      for (let r = 0; r < 6; r++) filterTransform(half + <usize>(r * 3 << 4), 16, out + <usize>(r * 6) * termBytes, termBytes);
    }
  }
}

/** The 4 taps w[a, b, n + j, k], j < 4: 4 filters of conv2dBackwardInput read across w's input channels. */
@inline function flippedTaps(w: usize, K: i32, Nc: i32, a: i32, b: i32, k: i32, n: i32): v128 {
  const p = w + ((<usize>((a * 3 + b) * Nc + n) * <usize>K + <usize>k) << 2), s = <usize>K << 2;
  let v = f32x4.splat(load<f32>(p));
  v = f32x4.replace_lane(v, 1, load<f32>(p + s));
  v = f32x4.replace_lane(v, 2, load<f32>(p + 2 * s));
  return f32x4.replace_lane(v, 3, load<f32>(p + 3 * s));
}

/**
 * The tiles of blocks taken from `counter`: x [N,H,W,K] the input, u the filters' transforms,
 * out [N,Ho,Wo,Nc], (ph, pw) the padding; `scratch` winogradProductScratchBytes(block, K, Nc).
 */
export function winogradTiles(
  x: usize, u: usize, out: usize, N: i32, H: i32, W: i32, K: i32, Ho: i32, Wo: i32, Nc: i32, ph: i32, pw: i32,
  block: i32, counter: usize, scratch: usize,
): void {
  const patch = scratch + <usize>DENSE_SCRATCH_BYTES, v = patch + <usize>PATCH_BYTES;
  const vTerm = <usize>termFloats(block, K) << 2, mTerm = <usize>termFloats(block, Nc) << 2;
  const m = v + <usize>TERMS * vTerm;
  const th = (Ho + TILE - 1) / TILE, tw = (Wo + TILE - 1) / TILE, tiles = N * th * tw;
  const blocks = (tiles + block - 1) / block;
  for (let b = atomic.add<i32>(counter, 1); b < blocks; b = atomic.add<i32>(counter, 1)) {
    const t0 = b * block, n = min(block, tiles - t0);
    for (let t = 0; t < n; t++) {
      const g = t0 + t, image = g / (th * tw), r = g % (th * tw);
      transformPatch(x, image, H, W, K, (r / tw) * TILE - ph, (r % tw) * TILE - pw, v + (<usize>t * <usize>K << 2), vTerm, patch);
    }
    for (let e = 0; e < TERMS; e++) {
      const ve = v + <usize>e * vTerm, ue = u + (<usize>(e * K) * <usize>Nc << 2), me = m + <usize>e * mTerm;
      matmulBlock(ve, ue, me, n, Nc, K, false, false, false, 0, n, 0, Nc, 0, scratch);
    }
    for (let t = 0; t < n; t++) {
      const g = t0 + t, image = g / (th * tw), r = g % (th * tw);
      outputTile(m + (<usize>t * <usize>Nc << 2), mTerm, Nc, out, image, Ho, Wo, (r / tw) * TILE, (r % tw) * TILE, patch);
    }
  }
}

/**
 * out[image, i0 + r, j0 + s, .] = (A^T M_t A)[r][s] for the outputs inside Ho x Wo, 4 channels at
 * a time; M_t's term e at mt + e termBytes.
 */
function outputTile(mt: usize, termBytes: usize, Nc: i32, out: usize, image: i32, Ho: i32, Wo: i32, i0: i32, j0: i32, p: usize): void {
  const rowBytes = <usize>Wo * <usize>Nc << 2, pixelBytes = <usize>Nc << 2;
  const half = p + <usize>(TERMS << 4), tile = half + <usize>(24 << 4);
  const inside = i0 + TILE <= Ho && j0 + TILE <= Wo;
  const corner = out + (<usize>image * <usize>Ho + <usize>i0) * rowBytes + <usize>j0 * pixelBytes;
  for (let c = 0; c < Nc; c += 4) {
    const src = mt + (<usize>c << 2);
    // columns: A^T M (6 -> 4 down each of the 6 columns), then rows: (A^T M) A (6 -> 4 along each of the 4 rows)
    for (let s = 0; s < 6; s++) outputTransform(src + <usize>s * termBytes, 6 * termBytes, half + <usize>(s << 4), 6 * 16);
    if (inside) {
      const dst = corner + (<usize>c << 2);
      for (let r = 0; r < TILE; r++) outputTransform(half + <usize>(r * 6 << 4), 16, dst + <usize>r * rowBytes, pixelBytes);
    } else {
      for (let r = 0; r < TILE; r++) outputTransform(half + <usize>(r * 6 << 4), 16, tile + <usize>(r * TILE << 4), 16);
      for (let r = 0; r < min(TILE, Ho - i0); r++) {
        for (let s = 0; s < min(TILE, Wo - j0); s++) {
          v128.store(corner + (<usize>c << 2) + <usize>r * rowBytes + <usize>s * pixelBytes, v128.load(tile + <usize>((r * TILE + s) << 4)));
        }
      }
    }
  }
}

/**
 * The 6 values q[k qs] = (G g)[k] of the 3 at p[k s], G of F(4x4, 3x3):
 *   [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1].
 */
@inline function filterTransform(p: usize, s: usize, q: usize, qs: usize): void {
  const g0 = v128.load(p), g1 = v128.load(p + s), g2 = v128.load(p + 2 * s);
  const even = f32x4.add(g0, g2);
  const sixth = f32x4.splat(<f32>(1.0 / 6.0));
  const outer = f32x4.add(f32x4.mul(f32x4.splat(<f32>(1.0 / 24.0)), g0), f32x4.mul(sixth, g2));
  const middle = f32x4.mul(f32x4.splat(<f32>(1.0 / 12.0)), g1);
  v128.store(q, f32x4.mul(f32x4.splat(0.25), g0));
  v128.store(q + qs, f32x4.neg(f32x4.mul(sixth, f32x4.add(even, g1))));
  v128.store(q + 2 * qs, f32x4.neg(f32x4.mul(sixth, f32x4.sub(even, g1))));
  v128.store(q + 3 * qs, f32x4.add(outer, middle));
  v128.store(q + 4 * qs, f32x4.sub(outer, middle));
  v128.store(q + 5 * qs, g2);
}

/**
 * The 4 values q[k qs] = (A^T m)[k] of the 6 at p[k s], A^T of F(4x4, 3x3):
 *   [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1].
 */
@inline function outputTransform(p: usize, s: usize, q: usize, qs: usize): void {
  const m0 = v128.load(p), m1 = v128.load(p + s), m2 = v128.load(p + 2 * s);
  const m3 = v128.load(p + 3 * s), m4 = v128.load(p + 4 * s), m5 = v128.load(p + 5 * s);
  const sum12 = f32x4.add(m1, m2), diff12 = f32x4.sub(m1, m2);
  const sum34 = f32x4.add(m3, m4), diff34 = f32x4.sub(m3, m4);
  v128.store(q, f32x4.add(f32x4.add(m0, sum12), sum34));
  v128.store(q + qs, f32x4.add(diff12, f32x4.mul(f32x4.splat(2), diff34)));
  v128.store(q + 2 * qs, f32x4.add(sum12, f32x4.mul(f32x4.splat(4), sum34)));
  v128.store(q + 3 * qs, f32x4.add(f32x4.add(diff12, f32x4.mul(f32x4.splat(8), diff34)), m5));
}
