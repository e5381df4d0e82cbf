/**
 * matmul (contract): out[M,N] = op(a) . op(b) (+ out when accumulate), op(X) = X or X^T;
 * a: [M,K] (or [K,M] when transA), b: [K,N] (or [N,K] when transB).
 *
 * Work sharing: out is cut into a grid of chunks of rowChunk x colChunk; every thread calls this
 * function and takes chunks from the shared counter at `counter` (atomic add) until none are
 * left, so a thread slowed by the OS or another process simply takes fewer chunks. The host
 * zeroes the counter before the call. One thread and one chunk = the whole product.
 *
 * Method (GotoBLAS-style), per chunk: for each block of KC steps of k and MC rows, pack op(a)
 * into 4-row panels (k-major: the 4 values of a column of 4 rows are adjacent); for each 16
 * columns, pack op(b) into two k-major 8-wide tiles; then a register-blocked 4x8 micro-kernel
 * (8 f32x4 accumulators, one broadcast of a and two loads of b per k) adds the product into
 * out. Packing (matmulPack.ts) makes all forms (a.b, a^T.b, a.b^T, a^T.b^T) run the same inner
 * loop; panels are zero-padded, and edge tiles go through a small buffer. Float32 accumulation.
 * The form a^T.b (a weight gradient x^T.dy) takes the sparse path instead when a block of a is
 * mostly zeros (matmulSparse.ts: only the non-zero terms, the same bits).
 *
 * `scratch` must hold MATMUL_SCRATCH_BYTES and belong to the calling thread.
 */

import { madd } from "./madd";
import { KC, MC, MR, NR, packA, packAT, packB, packBT, STRIP } from "./matmulPack";
import { looksSparse, sparseRowsAT, SPARSE_SCRATCH_BYTES } from "./matmulSparse";

/** Bytes of scratch the dense path needs: packed a, packed b (two tiles), an edge tile (also the convolutions', convGemm.ts). */
export const DENSE_SCRATCH_BYTES: i32 = (MC * KC + 2 * KC * NR + MR * NR) * 4;
/**
 * Bytes of per-thread scratch matmul needs: the dense path's, 4 MC KC + 16.1 KiB, or the sparse
 * path's lists, counts, b block and edge row, 8 MC KC + 25.1 KiB, the larger (matmulSparse.ts;
 * the two are used one after the other, never together).
 */
export const MATMUL_SCRATCH_BYTES: i32 = SPARSE_SCRATCH_BYTES;

/** Phases of a product whose op(a) is packed once for all chunks (see matmul). */
export const PRODUCT: i32 = 0;
export const PACK_A: i32 = 1;

/**
 * One phase of the product. PRODUCT: the chunks, as above; when `packedA` is not 0, op(a) is
 * already packed there (by PACK_A) and the chunks do not pack it themselves. PACK_A: rows
 * [start, end) of op(a) (multiples of 4, but for the last range) into `packedA`, for every block
 * of k: the host runs it when out is cut into column chunks, each of which would otherwise pack
 * all of op(a) again (8 chunks on 2 threads: 8 packings of a 200 x 1024 a instead of 1).
 * Layout: k block k0 (kc = min(KC, K - k0)) at packedA + 4 Mpad k0, Mpad = M rounded up to 4,
 * its rows as matmul's 4-row panels (row i's panel at + 4 kc (i & ~3)).
 */
export function matmul(
  a: usize, b: usize, out: usize, M: i32, N: i32, K: i32, transA: bool, transB: bool, accumulate: bool,
  rowChunk: i32, colChunk: i32, counter: usize, packedA: usize, phase: i32, start: i32, end: i32, scratch: usize,
): void {
  if (phase == PACK_A) {
    packRowsOfA(a, M, K, transA, packedA, start, end);
    return;
  }
  const colChunks = (N + colChunk - 1) / colChunk;
  const chunks = ((M + rowChunk - 1) / rowChunk) * colChunks;
  for (let t = atomic.add<i32>(counter, 1); t < chunks; t = atomic.add<i32>(counter, 1)) {
    const r0 = (t / colChunks) * rowChunk, c0 = (t % colChunks) * colChunk;
    const r1 = min(M, r0 + rowChunk), c1 = min(N, c0 + colChunk);
    matmulBlock(a, b, out, M, N, K, transA, transB, accumulate, r0, r1, c0, c1, packedA, scratch);
  }
}

/** Rows [r0, r1) of op(a), every block of k, into the shared packed op(a) (layout: matmul). */
function packRowsOfA(a: usize, M: i32, K: i32, transA: bool, packedA: usize, r0: i32, r1: i32): void {
  const mPad = <usize>((M + 3) & ~3);
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0);
    const ap = packedA + mPad * <usize>k0 * 4 + <usize>r0 * <usize>kc * 4;
    if (transA) packAT(a, M, r0, r1 - r0, k0, kc, ap);
    else packA(a, K, r0, r1 - r0, k0, kc, ap);
  }
}

/**
 * The block rows [r0, r1) x columns [c0, c1) of out (op(a) packed at `packedA` when not 0; also
 * the Winograd filter gradient's products, convWinograd.ts). Without `accumulate`, the first block
 * of k stores its sums instead of adding them to a zeroed out (firstBlock): one pass over out
 * fewer. The micro-kernel's sums start at +0, so they never end at -0 but where every product
 * underflows to -0; there +0 + sum would give +0 and the store -0, the same value.
 */
export function matmulBlock(
  a: usize, b: usize, out: usize, M: i32, N: i32, K: i32, transA: bool, transB: bool, accumulate: bool,
  r0: i32, r1: i32, c0: i32, c1: i32, packedA: usize, scratch: usize,
): void {
  if (!accumulate && K <= 0) zeroBlock(out, N, r0, r1, c0, c1);
  const bp = scratch + <usize>(MC * KC * 4), edge = bp + <usize>(2 * KC * NR * 4);
  const ldc = <usize>N << 2, mPad = <usize>((M + 3) & ~3);
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0), overwrite = firstBlock(accumulate, k0);
    for (let m0 = r0; m0 < r1; m0 += MC) {
      const mc = min(MC, r1 - m0);
      let j = c0;
      if (transA && !transB && looksSparse(a, M, m0, mc, k0, kc, c1 - c0)) {
        j = sparseRowsAT(a, b, out, M, N, m0, mc, k0, kc, c0, c1, scratch, overwrite);
        if (j >= c1) continue;
      }
      let ap = scratch;
      if (packedA) ap = packedA + mPad * <usize>k0 * 4 + <usize>m0 * <usize>kc * 4;
      else if (transA) packAT(a, M, m0, mc, k0, kc, ap);
      else packA(a, K, m0, mc, k0, kc, ap);
      for (; j < c1; j += 2 * NR) {
        const nb = min(2 * NR, c1 - j);
        packB2(b, N, K, transB, j, nb, k0, kc, bp);
        multiplyPanels(ap, bp, kc, mc, nb, out + <usize>m0 * ldc + (<usize>j << 2), ldc, edge, overwrite);
      }
    }
  }
}

/** Whether the block of k from k0 stores its sums (the first, without accumulate) rather than adding them to out. */
@inline export function firstBlock(accumulate: bool, k0: i32): bool {
  return !accumulate && k0 == 0;
}

/**
 * out[M, N] = a . b for a: [M, K] and b pre-packed at `packedB` (matmulPack.ts: nPad columns):
 * matmulBlock's loops and micro-kernel on the same packed values, without packing b, so the same
 * bits as matmulBlock(a, b, ..., accumulate false). For a b reused by many products (Winograd's
 * filters: packing them in every product of a block of 32 tiles took ~15 % of the product).
 * `scratch`: DENSE_SCRATCH_BYTES.
 */
export function matmulPackedB(a: usize, packedB: usize, out: usize, M: i32, N: i32, nPad: i32, K: i32, scratch: usize): void {
  if (K <= 0) zeroBlock(out, N, 0, M, 0, N);
  const edge = scratch + <usize>((MC * KC + 2 * KC * NR) * 4), ldc = <usize>N << 2;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0), strips = packedB + (<usize>k0 * <usize>nPad << 2), overwrite = firstBlock(false, k0);
    for (let m0 = 0; m0 < M; m0 += MC) {
      const mc = min(MC, M - m0);
      packA(a, K, m0, mc, k0, kc, scratch);
      for (let j = 0; j < N; j += STRIP) {
        multiplyPanels(scratch, strips + (<usize>j * <usize>kc << 2), kc, mc, min(STRIP, N - j), out + <usize>m0 * ldc + (<usize>j << 2), ldc, edge, overwrite);
      }
    }
  }
}

/**
 * Packs op(b)'s columns [j, j+nb), nb <= 16, as two tiles: 16 columns are a cache line of each
 * row of b when b is not transposed (its rows are often 4 KiB apart).
 */
function packB2(b: usize, N: i32, K: i32, transB: bool, j: i32, nb: i32, k0: i32, kc: i32, bp: usize): void {
  if (!transB) return packB(b, N, j, nb, k0, kc, bp);
  packBT(b, K, j, min(NR, nb), k0, kc, bp);
  if (nb > NR) packBT(b, K, j + NR, nb - NR, k0, kc, bp + <usize>(kc * NR * 4));
}

/**
 * c[0..mc, 0..nb] += (packed a: mc x kc) . (packed b: kc x nb), or = when `overwrite`, one 4x8 tile
 * at a time. (Also the inner loop of the convolutions.)
 */
@inline export function multiplyPanels(ap: usize, bp: usize, kc: i32, mc: i32, nb: i32, c: usize, ldc: usize, edge: usize, overwrite: bool): void {
  for (let t = 0; t < nb; t += NR) {
    const nr = min(NR, nb - t);
    const tile = bp + <usize>(t / NR) * <usize>(kc * NR * 4);
    for (let i = 0; i < mc; i += MR) {
      const mr = min(MR, mc - i);
      const panel = ap + <usize>i * <usize>kc * 4;
      const ct = c + <usize>i * ldc + (<usize>t << 2);
      if (mr == MR && nr == NR) {
        kernel4x8(panel, tile, kc, ct, ldc, overwrite);
      } else {
        edgeTile(panel, tile, kc, edge, ct, ldc, mr, nr, overwrite);
      }
    }
  }
}

/** c[0..4, 0..8] += (packed a panel) . (packed b panel) over kc steps (= when `overwrite`). */
@inline function kernel4x8(ap: usize, bp: usize, kc: i32, c: usize, ldc: usize, overwrite: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  // (a loop on the pointer alone, and no unrolling, gave V8 the tightest loop: ~10% faster)
  const end = ap + (<usize>kc << 4);
  while (ap < end) {
    const b0 = v128.load(bp), b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(ap, 4);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(ap, 8);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(ap, 12);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    ap += 16;
    bp += 32;
  }
  if (overwrite) {
    storeRow(c, c00, c01);
    storeRow(c + ldc, c10, c11);
    storeRow(c + 2 * ldc, c20, c21);
    storeRow(c + 3 * ldc, c30, c31);
    return;
  }
  addRow(c, c00, c01);
  addRow(c + ldc, c10, c11);
  addRow(c + 2 * ldc, c20, c21);
  addRow(c + 3 * ldc, c30, c31);
}

@inline function storeRow(c: usize, lo: v128, hi: v128): void {
  v128.store(c, lo);
  v128.store(c, hi, 16);
}

@inline function addRow(c: usize, lo: v128, hi: v128): void {
  v128.store(c, f32x4.add(v128.load(c), lo));
  v128.store(c, f32x4.add(v128.load(c, 16), hi), 16);
}

/** A tile at the edge of out (mr < 4 or nr < 8): computed into `edge`, then its valid corner added to c (stored when `overwrite`). */
function edgeTile(ap: usize, bp: usize, kc: i32, edge: usize, c: usize, ldc: usize, mr: i32, nr: i32, overwrite: bool): void {
  kernel4x8(ap, bp, kc, edge, NR * 4, true);
  addEdge(edge, c, ldc, mr, nr, overwrite);
}

/** c[i, j] += edge[i, j] (= when `overwrite`) for the valid mr x nr corner of a 4x8 tile. */
function addEdge(edge: usize, c: usize, ldc: usize, mr: i32, nr: i32, overwrite: bool): void {
  for (let i = 0; i < mr; i++) {
    for (let j = 0; j < nr; j++) {
      const p = c + <usize>i * ldc + (<usize>j << 2), v = load<f32>(edge + <usize>(i * NR + j) * 4);
      store<f32>(p, overwrite ? v : load<f32>(p) + v);
    }
  }
}

/** out[r0..r1, c0..c1] = 0. */
export function zeroBlock(out: usize, N: i32, r0: i32, r1: i32, c0: i32, c1: i32): void {
  if (c1 <= c0) return;
  for (let i = r0; i < r1; i++) memory.fill(out + ((<usize>i * <usize>N + <usize>c0) << 2), 0, <usize>(c1 - c0) << 2);
}

