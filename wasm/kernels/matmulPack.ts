/**
 * The packing routines of matmul (see matmul.ts): they copy blocks of op(a) and op(b) into
 * k-major panels in the calling thread's scratch, so the micro-kernel reads both operands
 * sequentially whatever the form (a or a^T, b or b^T). Panels are zero-padded past the edge.
 */

import { transpose4 } from "../infer/transpose4";

export const KC = 256; // k block
export const MC = 256; // row block (the packed a panel, MC x KC floats = 256 KiB, stays in L2)

/** Rows of an a panel and columns of a b tile: the micro-kernel's 4 x 8. */
export const MR = 4;
export const NR = 8;

/**
 * A whole b packed once ("pre-packed", for products that reuse one b many times: Winograd's
 * filters, convWinogradProduct.ts): for each block of k from k0 (kc = min(KC, K - k0)), the
 * 16-column strips that packB writes for it, in order: strip j (a multiple of 16) at float
 * k0 nPad + j kc, its two tiles of kc x 8 one after the other, b[k0 + k, j + c] at
 * + (c / 8) kc 8 + k 8 + c % 8. nPad = N rounded up to 16 (packedColumns); columns past N are 0.
 */
export const STRIP: i32 = 2 * NR;

/** N rounded up to whole strips of a pre-packed b. */
@inline export function packedColumns(N: i32): i32 {
  return (N + STRIP - 1) & ~(STRIP - 1);
}

/** The float offset of b[k, j] (j a multiple of 8) in a pre-packed b of K rows and nPad columns: its 8 columns j .. j + 7 follow. */
@inline export function packedOffset(K: i32, nPad: i32, k: i32, j: i32): usize {
  const kk = k % KC, k0 = k - kk, kc = min(KC, K - k0);
  return <usize>k0 * <usize>nPad + <usize>(j & ~(STRIP - 1)) * <usize>kc + <usize>((j & NR) * kc + kk * NR);
}

/**
 * Packs rows [m0, m0+mc) x k [k0, k0+kc) of a: [M,K] into panels of 4 rows:
 * ap[(i/4) kc 4 + k 4 + i%4] = a[m0+i, k0+k], zero past the last row.
 */
export function packA(a: usize, K: i32, m0: i32, mc: i32, k0: i32, kc: i32, ap: usize): void {
  const lda = <usize>K << 2;
  for (let i = 0; i < mc; i += MR) {
    const mr = min(MR, mc - i);
    const src = a + <usize>(m0 + i) * lda + (<usize>k0 << 2);
    const dst = ap + <usize>i * <usize>kc * 4;
    let k = 0;
    if (mr == MR) {
      for (; k + 4 <= kc; k += 4) {
        const p = src + (<usize>k << 2);
        transpose4(v128.load(p), v128.load(p + lda), v128.load(p + 2 * lda), v128.load(p + 3 * lda), dst + (<usize>k << 4), 16);
      }
    }
    for (; k < kc; k++) {
      for (let r = 0; r < MR; r++) {
        const v: f32 = r < mr ? load<f32>(src + <usize>r * lda + (<usize>k << 2)) : 0;
        store<f32>(dst + (<usize>(k * MR + r) << 2), v);
      }
    }
  }
}

/**
 * As packA for a: [K,M] holding a^T: ap[... + k 4 + i%4] = a[k0+k, m0+i]. Takes 16 rows (a
 * cache line of each row of a) at a time where it can: rows of a are often 4 KiB apart, and
 * reading 16 bytes per line would fetch every line four times.
 */
export function packAT(a: usize, M: i32, m0: i32, mc: i32, k0: i32, kc: i32, ap: usize): void {
  const lda = <usize>M << 2, panel = <usize>kc << 4;
  const src = a + <usize>k0 * lda + (<usize>m0 << 2);
  let i = 0;
  for (; i + 16 <= mc; i += 16) {
    const dst = ap + <usize>i * <usize>kc * 4;
    for (let k = 0; k < kc; k++) {
      const p = src + <usize>k * lda + (<usize>i << 2), q = dst + (<usize>k << 4);
      v128.store(q, v128.load(p));
      v128.store(q + panel, v128.load(p, 16));
      v128.store(q + 2 * panel, v128.load(p, 32));
      v128.store(q + 3 * panel, v128.load(p, 48));
    }
  }
  for (; i < mc; i += MR) {
    const mr = min(MR, mc - i);
    const dst = ap + <usize>i * <usize>kc * 4;
    for (let k = 0; k < kc; k++) {
      const p = src + <usize>k * lda + (<usize>i << 2), q = dst + (<usize>k << 4);
      if (mr == MR) {
        v128.store(q, v128.load(p));
      } else {
        for (let r = 0; r < MR; r++) store<f32>(q + (<usize>r << 2), r < mr ? load<f32>(p + (<usize>r << 2)) : 0);
      }
    }
  }
}

/**
 * Packs columns [j, j+nb) x k [k0, k0+kc) of b: [K,N], nb <= 16, as ceil(nb/8) tiles of kc x 8:
 * tile t holds bp[t kc 8 + k 8 + c] = b[k0+k, j+8t+c], zero past nb. 16 columns are a cache
 * line of each row of b (rows are often 4 KiB apart).
 */
export function packB(b: usize, N: i32, j: i32, nb: i32, k0: i32, kc: i32, bp: usize): void {
  const ldb = <usize>N << 2, tile = <usize>(kc * NR * 4);
  const src = b + <usize>k0 * ldb + (<usize>j << 2);
  for (let k = 0; k < kc; k++) {
    const p = src + <usize>k * ldb, q = bp + (<usize>k << 5);
    if (nb == 2 * NR) {
      v128.store(q, v128.load(p));
      v128.store(q, v128.load(p, 16), 16);
      v128.store(q + tile, v128.load(p, 32));
      v128.store(q + tile, v128.load(p, 48), 16);
    } else {
      for (let c = 0; c < 2 * NR; c++) {
        if (c >= NR && nb <= NR) break;
        const dst = q + (c < NR ? 0 : tile) + (<usize>(c % NR) << 2);
        store<f32>(dst, c < nb ? load<f32>(p + (<usize>c << 2)) : 0);
      }
    }
  }
}

/** As packB for b: [N,K] holding b^T: bp[k 8 + c] = b[j+c, k0+k]. */
export function packBT(b: usize, K: i32, j: i32, nr: i32, k0: i32, kc: i32, bp: usize): void {
  const ldb = <usize>K << 2;
  const src = b + <usize>j * ldb + (<usize>k0 << 2);
  let k = 0;
  if (nr == NR) {
    for (; k + 4 <= kc; k += 4) {
      const p = src + (<usize>k << 2), q = bp + (<usize>k << 5);
      transpose4(v128.load(p), v128.load(p + ldb), v128.load(p + 2 * ldb), v128.load(p + 3 * ldb), q, 32);
      const p4 = p + 4 * ldb;
      transpose4(v128.load(p4), v128.load(p4 + ldb), v128.load(p4 + 2 * ldb), v128.load(p4 + 3 * ldb), q + 16, 32);
    }
  }
  for (; k < kc; k++) {
    const q = bp + (<usize>k << 5);
    for (let c = 0; c < NR; c++) {
      store<f32>(q + (<usize>c << 2), c < nr ? load<f32>(src + <usize>c * ldb + (<usize>k << 2)) : 0);
    }
  }
}
