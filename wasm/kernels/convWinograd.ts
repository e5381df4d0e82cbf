/**
 * The filter gradient of a 3x3, stride-1 convolution by Winograd's minimal filtering: the
 * transposed form of Lavin & Gray's F(4x4, 3x3) ("Fast algorithms for convolutional neural
 * networks", 2016). dy is cut into tiles of 4 x 4 outputs; tile t saw the 6 x 6 patch X_t of x
 * (padding read as 0), and its share of the 3 x 3 filter gradient is the correlation of X_t
 * with dY_t, computed with 36 products per channel pair instead of 144:
 *
 *   dw[., ., ci, co] = G^T [ sum_t (A dY_t[co] A^T) (.) (B^T X_t[ci] B) ] G      ((.) elementwise)
 *
 * with B^T (6x6), A (6x4) and G (6x3) those of F(4x4, 3x3) (the 1-D identity
 * sum_j x[k+j] d[j] = sum_e G[e][k] (A d)[e] (B^T x)[e], k < 3, j < 4, is that algorithm's
 * y[i] = sum_k x[i+k] g[k] read with g and y exchanged). The sum over tiles is 36 matrix
 * products M_e[C, Co] = V_e^T U_e, V_e[t, ci] = (B^T X_t B)[e], U_e[t, co] = (A dY_t A^T)[e]:
 * matmul's blocks (matmul.ts), the same float32 accumulation in the same order on any number of
 * threads. 9 x 4 x 4 = 144 multiply-adds per tile and channel pair become 36: 4x fewer.
 *
 * The host runs the tiles in blocks of `tiles` (from tile0), each block in two phases, then one:
 * - WINOGRAD_TRANSFORM: tiles [start, end) of the block into V and U (work area, layout below);
 * - WINOGRAD_PRODUCT: M_e (+)= V_e^T U_e, one e per chunk from the work counter (the first block
 *   overwrites M, the others add to it);
 * - WINOGRAD_OUTPUT: dw = G^T M G for input channels [start, end).
 * Work area (floats): M [36][C][Co], then V [36][tiles][C], then U [36][tiles][Co]
 * (winogradWorkFloats, each term a cache line longer than its data; M first, where every block finds it). C and Co multiples of 4 (one f32x4 holds 4 channels).
 */
import { MATMUL_SCRATCH_BYTES, matmulBlock } from "./matmul";

export const WINOGRAD_TRANSFORM = 1;
export const WINOGRAD_PRODUCT = 2;
export const WINOGRAD_OUTPUT = 3;
export const WINOGRAD_GROUPS = 4;

/**
 * The grouped form's groups of tiles: a fixed number, whatever the number of threads, so that the
 * sums run in the same order on any (each group's partial M summed in group order at the end).
 */
export const WINOGRAD_GROUP_COUNT: i32 = 4;

/**
 * Floats from one term of a block's transforms (or products) to the next for blocks of `block`
 * tiles of `channels`: a cache line more than the term, so the 36 terms never lie a multiple of
 * 4 KiB apart (they would share the cache's sets: in the convolution's product, blocks of 64 tiles
 * of 32 channels ran 1.3x slower than blocks of 56).
 */
@inline export function termFloats(block: i32, channels: i32): i32 {
  return block * channels + 16;
}

/** Output positions per tile side, the input patch's side (4 + 3 - 1), and the 36 products. */
const TILE: i32 = 4;
const PATCH: i32 = 6;
const TERMS: i32 = 36;

/** Bytes of per-thread scratch the transforms use (one 6 x 6 patch of f32x4). */
export const WINOGRAD_SCRATCH_BYTES: i32 = TERMS * 16;

/**
 * Floats of the work area for blocks of `tiles` tiles with C input and Co output channels: M
 * (one term per mTermFloats), then, for tiles > 0, V and U (per termFloats). With 0 tiles, one
 * M alone: a partial sum of the grouped form. (f64: no overflow for any layer.)
 */
export function winogradWorkFloats(tiles: i32, C: i32, Co: i32): f64 {
  const transforms = tiles > 0 ? <f64>termFloats(tiles, C) + <f64>termFloats(tiles, Co) : 0;
  return <f64>TERMS * (mTermFloats(C, Co) + transforms);
}

/** Floats from one term of M to the next: C Co and a cache line (as termFloats: 36 terms a multiple of 4 KiB apart share the cache's sets). */
@inline function mTermFloats(C: i32, Co: i32): f64 {
  return <f64>C * <f64>Co + 16;
}

/**
 * Bytes of per-thread scratch of the grouped form for blocks of `block` tiles: matmul's (its
 * sparse path may run: the products are a^T.b), a patch, then the block's V and U.
 */
export function winogradGroupScratchBytes(block: i32, C: i32, Co: i32): i32 {
  return MATMUL_SCRATCH_BYTES + WINOGRAD_SCRATCH_BYTES + TERMS * (termFloats(block, C) + termFloats(block, Co)) * 4;
}

/** Tiles of dy (4 x 4 outputs each) over the batch: N ceil(Ho/4) ceil(Wo/4). */
@inline function tilesAcross(n: i32): i32 {
  return (n + TILE - 1) / TILE;
}

/**
 * One phase of the filter gradient (see above). x [N,H,W,C], dy [N,Ho,Wo,Co], dw [3,3,C,Co];
 * the padding ph, pw; the block: tiles [tile0, tile0 + tiles); `work` the shared work area.
 */
export function winogradFilterGradient(
  x: usize, dy: usize, dw: usize, N: i32, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, Co: i32, ph: i32, pw: i32,
  phase: i32, tile0: i32, tiles: i32, work: usize, counter: usize, start: i32, end: i32, scratch: usize,
): void {
  const mTerm = <usize>mTermFloats(C, Co) << 2, vTerm = <usize>termFloats(tiles, C) << 2, uTerm = <usize>termFloats(tiles, Co) << 2;
  const m = work, v = m + <usize>TERMS * mTerm, u = v + <usize>TERMS * vTerm;
  if (phase == WINOGRAD_TRANSFORM) {
    const th = tilesAcross(Ho), tw = tilesAcross(Wo);
    for (let t = start; t < end; t++) {
      const g = tile0 + t, n = g / (th * tw), r = g % (th * tw);
      const i0 = (r / tw) * TILE, j0 = (r % tw) * TILE;
      transformPatch(x, n, H, W, C, i0 - ph, j0 - pw, v + (<usize>t * <usize>C << 2), vTerm, scratch);
      transformTile(dy, n, Ho, Wo, Co, i0, j0, u + (<usize>t * <usize>Co << 2), uTerm, scratch);
    }
  } else if (phase == WINOGRAD_PRODUCT) {
    for (let e = atomic.add<i32>(counter, 1); e < TERMS; e = atomic.add<i32>(counter, 1)) {
      const ve = v + <usize>e * vTerm, ue = u + <usize>e * uTerm, me = m + <usize>e * mTerm;
      matmulBlock(ve, ue, me, C, Co, tiles, true, false, tile0 > 0, 0, C, 0, Co, 0, scratch);
    }
  } else if (phase == WINOGRAD_GROUPS) {
    groupedProducts(x, dy, N, H, W, C, Ho, Wo, Co, ph, pw, tiles, work, counter, scratch);
  } else {
    for (let ci = start; ci < end; ci++) outputRow(m, mTerm, dw, C, Co, ci, tile0);
  }
}

/**
 * The grouped form (WINOGRAD_GROUPS): the tiles cut into WINOGRAD_GROUP_COUNT groups, taken from
 * `counter`; a group's thread transforms its tiles `block` at a time into its own scratch (V, U:
 * small enough to stay in its core's cache) and adds their products into the group's partial M
 * (`work` + g winogradWorkFloats(0, C, Co) floats). No barrier between the transforms and the products, and no shared
 * transforms streamed through memory. `scratch`: winogradGroupScratchBytes(block, C, Co).
 */
function groupedProducts(
  x: usize, dy: usize, N: i32, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, Co: i32, ph: i32, pw: i32,
  block: i32, work: usize, counter: usize, scratch: usize,
): void {
  const th = tilesAcross(Ho), tw = tilesAcross(Wo), total = N * th * tw;
  const productBytes = <usize>mTermFloats(C, Co) << 2, mBytes = <usize>TERMS * productBytes;
  const p = scratch + <usize>MATMUL_SCRATCH_BYTES, v = p + <usize>WINOGRAD_SCRATCH_BYTES;
  const vTerm = <usize>termFloats(block, C) << 2, uTerm = <usize>termFloats(block, Co) << 2;
  const u = v + <usize>TERMS * vTerm;
  for (let g = atomic.add<i32>(counter, 1); g < WINOGRAD_GROUP_COUNT; g = atomic.add<i32>(counter, 1)) {
    const first = <i32>((<i64>total * g) / WINOGRAD_GROUP_COUNT), last = <i32>((<i64>total * (g + 1)) / WINOGRAD_GROUP_COUNT);
    const m = work + <usize>g * mBytes;
    if (first == last) memory.fill(m, 0, mBytes);
    for (let t0 = first; t0 < last; t0 += block) {
      const n = min(block, last - t0);
      for (let t = 0; t < n; t++) {
        const r = (t0 + t) % (th * tw), image = (t0 + t) / (th * tw);
        const i0 = (r / tw) * TILE, j0 = (r % tw) * TILE;
        transformPatch(x, image, H, W, C, i0 - ph, j0 - pw, v + (<usize>t * <usize>C << 2), vTerm, p);
        transformTile(dy, image, Ho, Wo, Co, i0, j0, u + (<usize>t * <usize>Co << 2), uTerm, p);
      }
      for (let e = 0; e < TERMS; e++) {
        matmulBlock(v + <usize>e * vTerm, u + <usize>e * uTerm, m + <usize>e * productBytes, C, Co, n, true, false, t0 > first, 0, C, 0, Co, 0, scratch);
      }
    }
  }
}

/**
 * out[e termBytes + .] = (B^T X B)[e] for the 6 x 6 patch of image n whose corner is (y0, x0)
 * (rows and columns outside the image read as 0), 4 channels at a time: a tile's row of V.
 */
export function transformPatch(x: usize, n: i32, H: i32, W: i32, C: i32, y0: i32, x0: i32, out: usize, termBytes: usize, p: usize): void {
  const rowBytes = <usize>W * <usize>C << 2, pixelBytes = <usize>C << 2;
  const inside = y0 >= 0 && y0 + PATCH <= H && x0 >= 0 && x0 + PATCH <= W;
  for (let c = 0; c < C; c += 4) {
    const base = x + (<usize>n * <usize>H * rowBytes) + (<usize>c << 2);
    // columns: B^T X (down each column: straight from x when the patch is inside the image, else
    // from a copy with the padding's zeros), then rows: (B^T X) B (along each row), into V
    if (inside) {
      const corner = base + <usize>y0 * rowBytes + <usize>x0 * pixelBytes;
      for (let s = 0; s < PATCH; s++) inputTransform(corner + <usize>s * pixelBytes, rowBytes, p + <usize>(s << 4), PATCH << 4);
    } else {
      for (let r = 0; r < PATCH; r++) {
        const y = y0 + r;
        for (let s = 0; s < PATCH; s++) {
          const xc = x0 + s;
          let value = f32x4.splat(0);
          if (<u32>y < <u32>H && <u32>xc < <u32>W) value = v128.load(base + <usize>y * rowBytes + <usize>xc * pixelBytes);
          v128.store(p + <usize>((r * PATCH + s) << 4), value);
        }
      }
      for (let s = 0; s < PATCH; s++) inputTransform(p + <usize>(s << 4), PATCH << 4, p + <usize>(s << 4), PATCH << 4);
    }
    for (let r = 0; r < PATCH; r++) {
      inputTransform(p + <usize>(r * PATCH << 4), 16, out + (<usize>(r * PATCH) * termBytes) + (<usize>c << 2), termBytes);
    }
  }
}

/**
 * out[e termBytes + .] = (A dY A^T)[e] for the 4 x 4 outputs of image n from (i0, j0) (outputs
 * past Ho or Wo read as 0), 4 channels at a time: a tile's row of U.
 */
function transformTile(dy: usize, n: i32, Ho: i32, Wo: i32, Co: i32, i0: i32, j0: i32, out: usize, termBytes: usize, p: usize): void {
  const rowBytes = <usize>Wo * <usize>Co << 2, pixelBytes = <usize>Co << 2;
  const inside = i0 + TILE <= Ho && j0 + TILE <= Wo;
  for (let c = 0; c < Co; c += 4) {
    const base = dy + (<usize>n * <usize>Ho * rowBytes) + (<usize>c << 2);
    // columns: A dY (4 -> 6 down each of the 4 columns: straight from dy when the tile is inside
    // it, else from a copy with zeros past the edge), then rows: (A dY) A^T (4 -> 6 along each of the 6 rows)
    if (inside) {
      const corner = base + <usize>i0 * rowBytes + <usize>j0 * pixelBytes;
      for (let s = 0; s < TILE; s++) outputTileTransform(corner + <usize>s * pixelBytes, rowBytes, p + <usize>(s << 4), PATCH << 4);
    } else {
      for (let r = 0; r < TILE; r++) {
        const i = i0 + r;
        for (let s = 0; s < TILE; s++) {
          const j = j0 + s;
          let value = f32x4.splat(0);
          if (i < Ho && j < Wo) value = v128.load(base + <usize>i * rowBytes + <usize>j * pixelBytes);
          v128.store(p + <usize>((r * PATCH + s) << 4), value);
        }
      }
      for (let s = 0; s < TILE; s++) outputTileTransform(p + <usize>(s << 4), PATCH << 4, p + <usize>(s << 4), PATCH << 4);
    }
    for (let r = 0; r < PATCH; r++) {
      outputTileTransform(p + <usize>(r * PATCH << 4), 16, out + (<usize>(r * PATCH) * termBytes) + (<usize>c << 2), termBytes);
    }
  }
}

/**
 * The 6 values q[k qs] = (B^T x)[k] of the 6 at p[k s] (in place when q = p, s = qs), B^T of F(4x4, 3x3):
 *   [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1].
 */
@inline function inputTransform(p: usize, s: usize, q: usize, qs: usize): void {
  const x0 = v128.load(p), x1 = v128.load(p + s), x2 = v128.load(p + 2 * s);
  const x3 = v128.load(p + 3 * s), x4 = v128.load(p + 4 * s), x5 = v128.load(p + 5 * s);
  const four = f32x4.splat(4), five = f32x4.splat(5), two = f32x4.splat(2);
  v128.store(q, f32x4.add(f32x4.sub(f32x4.mul(four, x0), f32x4.mul(five, x2)), x4));
  v128.store(q + qs, f32x4.sub(f32x4.add(x3, x4), f32x4.mul(four, f32x4.add(x1, x2))));
  v128.store(q + 2 * qs, f32x4.add(f32x4.sub(x4, x3), f32x4.mul(four, f32x4.sub(x1, x2))));
  v128.store(q + 3 * qs, f32x4.add(f32x4.sub(x4, x2), f32x4.mul(two, f32x4.sub(x3, x1))));
  v128.store(q + 4 * qs, f32x4.sub(f32x4.sub(x4, x2), f32x4.mul(two, f32x4.sub(x3, x1))));
  v128.store(q + 5 * qs, f32x4.add(f32x4.sub(f32x4.mul(four, x1), f32x4.mul(five, x3)), x5));
}

/**
 * The 6 values q[k qs] = (A d)[k] of the 4 at p[k s] (q = p allowed: all 4 are read first), A of F(4x4, 3x3):
 *   [1 0 0 0; 1 1 1 1; 1 -1 1 -1; 1 2 4 8; 1 -2 4 -8; 0 0 0 1].
 */
@inline function outputTileTransform(p: usize, s: usize, q: usize, qs: usize): void {
  const d0 = v128.load(p), d1 = v128.load(p + s), d2 = v128.load(p + 2 * s), d3 = v128.load(p + 3 * s);
  const even = f32x4.add(d0, d2), odd = f32x4.add(d1, d3);
  const even4 = f32x4.add(d0, f32x4.mul(f32x4.splat(4), d2));
  const odd8 = f32x4.add(f32x4.mul(f32x4.splat(2), d1), f32x4.mul(f32x4.splat(8), d3));
  v128.store(q, d0);
  v128.store(q + qs, f32x4.add(even, odd));
  v128.store(q + 2 * qs, f32x4.sub(even, odd));
  v128.store(q + 3 * qs, f32x4.add(even4, odd8));
  v128.store(q + 4 * qs, f32x4.sub(even4, odd8));
  v128.store(q + 5 * qs, d3);
}

/**
 * dw[ki, kj, ci, .] = (G^T M[., ci, .] G)[ki, kj] for output channels 4 at a time, M the sum of
 * the `partials` M at m (1, or the grouped form's WINOGRAD_GROUP_COUNT), added in their order;
 * term e of an M at + e termBytes.
 */
function outputRow(m: usize, termBytes: usize, dw: usize, C: i32, Co: i32, ci: i32, partials: i32): void {
  const sliceBytes = <usize>C * <usize>Co << 2; // dw's [ki, kj] slices are [C, Co]
  const partialBytes = <usize>TERMS * termBytes;
  const row = <usize>ci * <usize>Co << 2;
  for (let co = 0; co < Co; co += 4) {
    const src = m + row + (<usize>co << 2), dst = dw + row + (<usize>co << 2);
    // per row r of M (6 terms e = 6 r + s), the 3 columns G^T m; then per column kj, down the 6 rows
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0);
    let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0);
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0);
    for (let r = 0; r < PATCH; r++) {
      const p = src + <usize>(r * PATCH) * termBytes;
      const m0 = summed(p, partials, partialBytes), m1 = summed(p + termBytes, partials, partialBytes);
      const m2 = summed(p + 2 * termBytes, partials, partialBytes), m3 = summed(p + 3 * termBytes, partials, partialBytes);
      const m4 = summed(p + 4 * termBytes, partials, partialBytes), m5 = summed(p + 5 * termBytes, partials, partialBytes);
      const t0 = filterTransform0(m0, m1, m2, m3, m4), t1 = filterTransform1(m1, m2, m3, m4);
      const t2 = filterTransform2(m1, m2, m3, m4, m5);
      // accumulate G[r][ki] t[kj] for ki = 0, 1, 2
      const g0 = gAt(r, 0), g1 = gAt(r, 1), g2 = gAt(r, 2);
      a0 = f32x4.add(a0, f32x4.mul(g0, t0));
      a1 = f32x4.add(a1, f32x4.mul(g0, t1));
      a2 = f32x4.add(a2, f32x4.mul(g0, t2));
      b0 = f32x4.add(b0, f32x4.mul(g1, t0));
      b1 = f32x4.add(b1, f32x4.mul(g1, t1));
      b2 = f32x4.add(b2, f32x4.mul(g1, t2));
      c0 = f32x4.add(c0, f32x4.mul(g2, t0));
      c1 = f32x4.add(c1, f32x4.mul(g2, t1));
      c2 = f32x4.add(c2, f32x4.mul(g2, t2));
    }
    v128.store(dst, a0);
    v128.store(dst + sliceBytes, a1);
    v128.store(dst + 2 * sliceBytes, a2);
    v128.store(dst + 3 * sliceBytes, b0);
    v128.store(dst + 4 * sliceBytes, b1);
    v128.store(dst + 5 * sliceBytes, b2);
    v128.store(dst + 6 * sliceBytes, c0);
    v128.store(dst + 7 * sliceBytes, c1);
    v128.store(dst + 8 * sliceBytes, c2);
  }
}

/** The sum of the `partials` f32x4 at p, p + stride, ..., added in that order. */
@inline function summed(p: usize, partials: i32, stride: usize): v128 {
  let sum = v128.load(p);
  for (let k = 1; k < partials; k++) sum = f32x4.add(sum, v128.load(p + <usize>k * stride));
  return sum;
}

// G of F(4x4, 3x3): [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1].
// (G^T m)[0] = m0/4 - (m1 + m2)/6 + (m3 + m4)/24; [1] = (m2 - m1)/6 + (m3 - m4)/12; [2] = (m3 + m4 - m1 - m2)/6 + m5.

@inline function filterTransform0(m0: v128, m1: v128, m2: v128, m3: v128, m4: v128): v128 {
  const q = f32x4.mul(f32x4.splat(0.25), m0);
  return f32x4.add(f32x4.sub(q, f32x4.mul(f32x4.splat(<f32>(1.0 / 6.0)), f32x4.add(m1, m2))), f32x4.mul(f32x4.splat(<f32>(1.0 / 24.0)), f32x4.add(m3, m4)));
}

@inline function filterTransform1(m1: v128, m2: v128, m3: v128, m4: v128): v128 {
  return f32x4.add(f32x4.mul(f32x4.splat(<f32>(1.0 / 6.0)), f32x4.sub(m2, m1)), f32x4.mul(f32x4.splat(<f32>(1.0 / 12.0)), f32x4.sub(m3, m4)));
}

@inline function filterTransform2(m1: v128, m2: v128, m3: v128, m4: v128, m5: v128): v128 {
  const d = f32x4.sub(f32x4.add(m3, m4), f32x4.add(m1, m2));
  return f32x4.add(f32x4.mul(f32x4.splat(<f32>(1.0 / 6.0)), d), m5);
}

/** G[r][k] as a splat (the table in the comment above). */
@inline function gAt(r: i32, k: i32): v128 {
  let g: f32 = 0;
  if (r == 0) g = k == 0 ? 0.25 : 0;
  else if (r == 1) g = <f32>(-1.0 / 6.0);
  else if (r == 2) g = k == 1 ? <f32>(1.0 / 6.0) : <f32>(-1.0 / 6.0);
  else if (r == 3) g = k == 0 ? <f32>(1.0 / 24.0) : k == 1 ? <f32>(1.0 / 12.0) : <f32>(1.0 / 6.0);
  else if (r == 4) g = k == 0 ? <f32>(1.0 / 24.0) : k == 1 ? <f32>(-1.0 / 12.0) : <f32>(1.0 / 6.0);
  else g = k == 2 ? 1 : 0;
  return f32x4.splat(g);
}
