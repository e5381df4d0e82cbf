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
 * - WINOGRAD_FILTERS: U (the shared work area `u`: 36 terms of K x Nc, each packed as matmul packs
 *   its b, winogradFilterFloats) for inputs k in [start, end);
 * - WINOGRAD_TILES: blocks of `block` tiles taken from the work counter, each by one thread from
 *   its start to its outputs (V, the 36 products, A^T M A): every output is computed by one thread
 *   in one order, so any number of threads gives the same bits.
 * The float32 sums run in another order than the direct product's, and the transforms round:
 * the outputs differ from it in the last bits (tested against the reference with a tolerance).
 * K and Nc multiples of 4 (the transforms take 4 channels at a time).
 */
import { DENSE_SCRATCH_BYTES, matmulPackedB } from "./matmul";
import { NR, packedColumns, packedOffset } from "./matmulPack";
import { termFloats, transformPatch } from "./convWinograd";
import { transpose4 } from "../infer/transpose4";
import { SIGN_TABLES_BYTES, signTables, termFromSigns } from "./convWinogradSigns";

/**
 * The phases of conv2d's and conv2dBackwardInput's exports that run Winograd's product (after
 * convLut.ts's and convDirect.ts's): from the filters' transforms, or (binary filters) from
 * their signs (convWinogradSigns.ts).
 */
export const WINOGRAD_FILTERS = 3;
export const WINOGRAD_TILES = 4;
export const WINOGRAD_SIGNS = 6;
export const WINOGRAD_SIGN_TILES = 7;

const TILE: i32 = 4;
const TERMS: i32 = 36;
/** Bytes of the transforms' own scratch: a 6 x 6 patch of f32x4, then a 4 x 6 half-transformed tile and a 4 x 4 one. */
const PATCH_BYTES: i32 = (TERMS + 24 + 16) * 16;

/** Bytes of per-thread scratch of WINOGRAD_TILES for blocks of `block` tiles, K input and Nc output channels. */
export function winogradProductScratchBytes(block: i32, K: i32, Nc: i32): i32 {
  return DENSE_SCRATCH_BYTES + PATCH_BYTES + TERMS * (termFloats(block, K) + termFloats(block, Nc)) * 4;
}

/** Floats of the filters' transforms U for K input and Nc output channels: 36 terms, each a pre-packed K x Nc (matmulPack.ts). */
export function winogradFilterFloats(K: i32, Nc: i32): f64 {
  return <f64>TERMS * <f64>K * <f64>packedColumns(Nc);
}

/**
 * Bytes of per-thread scratch of WINOGRAD_FILTERS for Nc output channels: the 3 x 3 taps of 4
 * inputs and a 6 x 3 half-transformed filter (f32x4), then the 36 terms of 4 rows of U (the
 * staging area, rows of Nc rounded up to 16 floats).
 */
export function winogradFilterScratchBytes(Nc: i32): i32 {
  return (4 * 9 + 18) * 16 + TERMS * <i32>stageTermBytes(Nc);
}

/**
 * Bytes from one staged term to the next: 4 rows of Nc floats (rounded up to 16) and a cache
 * line (terms a multiple of 4 KiB apart would share the L1 cache's sets).
 */
@inline function stageTermBytes(Nc: i32): usize {
  return (<usize>packedColumns(Nc) << 4) + 64;
}

/**
 * U_e = (G g[k, n] G^T)[e] for k in [start, end) (multiples of 4), every n, 4 inputs and 4
 * outputs at a time, each term U_e [K x Nc] pre-packed for the products (matmulPack.ts; columns
 * past Nc are 0). w [3,3,C,Co]; `flipped`: conv2dBackwardInput's filters (K = Co, Nc = C), read
 * as 4 x 4 blocks and transposed, else conv2d's (K = C, Nc = Co). The 36 terms of 4 rows of U
 * are staged in scratch and copied out in runs of 4 rows x 8 columns: stored straight, each
 * (k, n) would write to 36 places K Nc floats apart, and the flipped taps would be 4 strided
 * scalar reads each (the 8x8 512 -> 512 layer, 1 thread: 12-15 and 36-39 ms a call before,
 * 6-10 and 10-15 staged). `scratch`: winogradFilterScratchBytes(Nc).
 */
export function winogradFilters(w: usize, u: usize, K: i32, Nc: i32, flipped: bool, start: i32, end: i32, scratch: usize): void {
  const nPad = packedColumns(Nc), termBytes = <usize>K * <usize>nPad << 2;
  const rowBytes = <usize>nPad << 2, stageTerm = stageTermBytes(Nc);
  const g = scratch, half = g + 4 * 9 * 16, stage = half + 18 * 16;
  for (let e = 0; e < TERMS; e++) {
    for (let i = 0; i < 4; i++) memory.fill(stage + <usize>e * stageTerm + <usize>i * rowBytes + (<usize>Nc << 2), 0, <usize>(nPad - Nc) << 2);
  }
  for (let k = start; k < end; k += 4) {
    for (let n = 0; n < Nc; n += 4) {
      if (flipped) flippedTaps(w, K, Nc, k, n, g);
      else directTaps(w, K, Nc, k, n, g);
      for (let i = 0; i < 4; i++) {
        const gi = g + <usize>(i * 9 << 4), out = stage + <usize>i * rowBytes + (<usize>n << 2);
        // columns: G g (3 -> 6 down each of the 3 columns), then rows: (G g) G^T (3 -> 6 along each of the 6 rows)
        for (let b = 0; b < 3; b++) filterTransform(gi + <usize>(b << 4), 3 * 16, half + <usize>(b << 4), 3 * 16);
        for (let r = 0; r < 6; r++) filterTransform(half + <usize>(r * 3 << 4), 16, out + <usize>(r * 6) * stageTerm, stageTerm);
      }
    }
    for (let e = 0; e < TERMS; e++) storePacked(stage + <usize>e * stageTerm, rowBytes, u + <usize>e * termBytes, K, nPad, k);
  }
}

/** Rows k .. k + 3 of a term (staged at src, rows rowBytes apart) into its pre-packed place at dst: 8 columns x 4 rows a run. */
@inline function storePacked(src: usize, rowBytes: usize, dst: usize, K: i32, nPad: i32, k: i32): void {
  for (let j = 0; j < nPad; j += NR) {
    const to = dst + (packedOffset(K, nPad, k, j) << 2), from = src + (<usize>j << 2);
    for (let i: usize = 0; i < 4; i++) {
      v128.store(to + (i << 5), v128.load(from + i * rowBytes));
      v128.store(to + (i << 5), v128.load(from + i * rowBytes, 16), 16);
    }
  }
}

/** g[i][a, b] (at g + (9 i + 3 a + b) 16) = w[a, b, k + i, n .. n + 3], i < 4: conv2d's taps. */
@inline function directTaps(w: usize, K: i32, Nc: i32, k: i32, n: i32, g: usize): void {
  for (let i = 0; i < 4; i++) {
    for (let tap = 0; tap < 9; tap++) {
      v128.store(g + <usize>((i * 9 + tap) << 4), v128.load(w + ((<usize>(tap * K + k + i) * <usize>Nc + <usize>n) << 2)));
    }
  }
}

/**
 * g[i][a, b] = w[2 - a, 2 - b, n .. n + 3, k + i], i < 4: conv2dBackwardInput's flipped taps,
 * across w's input channels: 4 rows of w's [C, Co] block read at columns k .. k + 3, transposed.
 */
@inline function flippedTaps(w: usize, K: i32, Nc: i32, k: i32, n: i32, g: usize): void {
  const s = <usize>K << 2;
  for (let tap = 0; tap < 9; tap++) {
    const p = w + ((<usize>((8 - tap) * Nc + n) * <usize>K + <usize>k) << 2);
    transpose4(v128.load(p), v128.load(p + s), v128.load(p + 2 * s), v128.load(p + 3 * s), g + <usize>(tap << 4), 9 * 16);
  }
}

/**
 * The tiles of blocks taken from `counter`: x [N,H,W,K] the input, u the filters' transforms,
 * out [N,Ho,Wo,Nc], (ph, pw) the padding; `scratch` winogradProductScratchBytes(block, K, Nc).
 * With the filters w (WINOGRAD_SIGN_TILES; not 0: a tensor's offset), u is instead
 * WINOGRAD_SIGNS' shared block, and each term of U is filled from the signs just before its
 * product (convWinogradSigns.ts; scratch + winogradSignScratchBytes(K, Nc)).
 */
export function winogradTiles(
  x: usize, u: usize, out: usize, N: i32, H: i32, W: i32, K: i32, Ho: i32, Wo: i32, Nc: i32, ph: i32, pw: i32,
  block: i32, counter: usize, scratch: usize, w: usize = 0,
): void {
  const patch = scratch + <usize>DENSE_SCRATCH_BYTES, v = patch + <usize>PATCH_BYTES;
  const vTerm = <usize>termFloats(block, K) << 2, mTerm = <usize>termFloats(block, Nc) << 2;
  const m = v + <usize>TERMS * vTerm, tables = m + <usize>TERMS * mTerm;
  const term = tables + <usize>SIGN_TABLES_BYTES;
  const th = (Ho + TILE - 1) / TILE, tw = (Wo + TILE - 1) / TILE, tiles = N * th * tw;
  const blocks = (tiles + block - 1) / block, nPad = packedColumns(Nc);
  let tabled = false;
  for (let b = atomic.add<i32>(counter, 1); b < blocks; b = atomic.add<i32>(counter, 1)) {
    const t0 = b * block, n = min(block, tiles - t0);
    for (let t = 0; t < n; t++) {
      const g = t0 + t, image = g / (th * tw), r = g % (th * tw);
      transformPatch(x, image, H, W, K, (r / tw) * TILE - ph, (r % tw) * TILE - pw, v + (<usize>t * <usize>K << 2), vTerm, patch);
    }
    if (w && !tabled) {
      signTables(w, tables, patch);
      tabled = true;
    }
    for (let e = 0; e < TERMS; e++) {
      let ue = u + (<usize>(e * K) * <usize>nPad << 2);
      if (w) {
        termFromSigns(u, tables, e, K, Nc, term);
        ue = term;
      }
      matmulPackedB(v + <usize>e * vTerm, ue, m + <usize>e * mTerm, n, Nc, nPad, K, scratch);
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
@inline export function filterTransform(p: usize, s: usize, q: usize, qs: usize): void {
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
