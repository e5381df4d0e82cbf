/**
 * denseLut: a binary dense layer with folded batch norm, multiply-free in the weight product,
 * by the 8-bit lookup-table accumulate (README.md, "Inference"; measured in docs/RESULTS.md).
 *
 *   s[m, n] = sum_k w[k][n] x[m, k],  w in {-1, +1} stored as bits (1 = +1; src/format/bcnet.ts)
 *   y[m, n] = act(scale[n] * s[m, n] + shift[n]),  act = max(., 0) when relu != 0, else identity
 *
 * Method: for each group g of 8 inputs, every one of the 256 sign patterns b has the signed sum
 *   T[g][b] = sum_{j<8} (bit j of b ? +x[8g+j] : -x[8g+j])
 * so s[m, n] = sum_g T[g][byte g of unit n's row]: one table read and one add per 8 weights, no
 * multiplication. A table is built from two 16-entry halves (bits 0-3 and 4-7) with one add per
 * entry. Tables are built for a chunk of 16 groups (256 KiB: in the L2 cache; measured faster
 * on this machine than L1-sized chunks, whose partial sums go through memory more often),
 * every unit reads them, and the sums accumulate in the output across chunks. The only
 * multiplications are the epilogue's scale (one per output). Measured on 1 thread of the 2-core
 * AMD EPYC dev machine (binaryMatmul 200 x 1024 x 1024, 13 blocks): the accumulate ~1.1 ns per
 * 16-row lookup (~1.9 ms of the 2.7-2.9 ms), the tables ~0.57 ms, the rest (signs, transposes)
 * ~0.3 ms; V8's code for the inner loop is the limit (the same speed with every read hitting
 * L1), not memory. Tried without gain: two units a step (V8 spills one of the 8 sums), four
 * groups a step (spills), the pair sums as fused multiply-adds by 1 (the adders are not the
 * limit), chunks of 8 or 32 groups.
 *
 * Two kernels:
 * - denseLut (dense.ts, on this file's tables): blocks of 16 rows; a table entry is four f32x4
 *   (the 16 rows: one 64-byte cache line), so one read of a weight byte and one line of table
 *   serve 16 rows (batches);
 * - denseNibbleRow (denseNibbleRow.ts): one row (lane) of a block, 16 units at a time with
 *   4-input tables looked up by byte shuffles (batch 1, and
 *   leftover rows).
 *
 * Layouts (byte offsets into the memory, 16-byte aligned):
 * - activations, "blocked": block b holds rows 16b..16b+15; feature k of row 16b+r is the f32
 *   at x + ((b * kPad + k) * 16 + r) * 4, kPad = 8 * kGroups (features past the real ones are 0);
 * - bits: unit n's row of kGroups bytes at bits + n * kGroups;
 * - out: blocked like x with unitsPad = units rounded up to 8 (padding written as 0, so `out`
 *   is the next layer's input);
 * - table: denseLutTableBytes() bytes of scratch.
 */

const ROWS: usize = 16; // rows per block
/** Bytes of one feature (or unit) of a block: 16 rows of f32, four f32x4. */
export const LANE_BYTES: usize = ROWS * 4;
export const GROUP_TABLE: usize = 256 * LANE_BYTES; // 16 KiB per group of 8 inputs (16 rows)
/** Groups per chunk: 16 x 16 KiB = 256 KiB of tables (chunks of 4, 8 and 32 measured slower). */
export const CHUNK: i32 = 16;
export const HALVES: usize = 32 * LANE_BYTES; // two 16-entry halves

/** Bytes of table scratch denseLut needs (the same for every layer). */
export function denseLutTableBytes(): i32 {
  return <i32>(<usize>CHUNK * GROUP_TABLE + HALVES);
}

/** Tables of groups [g0, g1): T[g - g0][h * 16 + l] = hi[h] + lo[l] (lo: inputs 8g..8g+3, hi: 8g+4..8g+7), all four f32x4. */
export function buildTables(xb: usize, g0: i32, g1: i32, table: usize): void {
  const lo = table + <usize>CHUNK * GROUP_TABLE;
  const hi = lo + 16 * LANE_BYTES;
  for (let g = g0; g < g1; g++) {
    const xg = xb + (<usize>g << 3) * LANE_BYTES;
    for (let q: usize = 0; q < 64; q += 16) {
      half(xg + q, lo + q);
      half(xg + 4 * LANE_BYTES + q, hi + q);
    }
    let t = table + <usize>(g - g0) * GROUP_TABLE;
    for (let h: usize = 0; h < 16; h++) {
      const p = hi + h * LANE_BYTES;
      const ha = v128.load(p), hb = v128.load(p, 16), hc = v128.load(p, 32), hd = v128.load(p, 48);
      for (let l: usize = 0; l < 16 * LANE_BYTES; l += LANE_BYTES) {
        const e = lo + l, d = t + l;
        v128.store(d, f32x4.add(ha, v128.load(e)));
        v128.store(d, f32x4.add(hb, v128.load(e, 16)), 16);
        v128.store(d, f32x4.add(hc, v128.load(e, 32)), 32);
        v128.store(d, f32x4.add(hd, v128.load(e, 48)), 48);
      }
      t += 16 * LANE_BYTES;
    }
  }
}

/**
 * The 16 signed sums of 4 inputs v0..v3 (f32x4 at src, src + 64, ...): entry l (at dst + 64 l)
 * = sum_j (bit j of l ? v_j : -v_j).
 */
@inline
export function half(src: usize, dst: usize): void {
  signedSums4(v128.load(src), v128.load(src, 64), v128.load(src, 128), v128.load(src, 192), dst, 64);
}

/** half's entries from the 4 inputs v0..v3 (4 rows each) in registers: entry l at dst + l * stride (a constant). */
@inline
export function signedSums4(v0: v128, v1: v128, v2: v128, v3: v128, dst: usize, stride: usize): void {
  const d0 = f32x4.add(v0, v0), d1 = f32x4.add(v1, v1), d2 = f32x4.add(v2, v2), d3 = f32x4.add(v3, v3);
  const e0 = f32x4.neg(f32x4.add(f32x4.add(v0, v1), f32x4.add(v2, v3)));
  const e2 = f32x4.add(e0, d1), e4 = f32x4.add(e0, d2), e6 = f32x4.add(e4, d1);
  const e8 = f32x4.add(e0, d3), e10 = f32x4.add(e8, d1), e12 = f32x4.add(e8, d2), e14 = f32x4.add(e12, d1);
  v128.store(dst, e0); v128.store(dst + stride, f32x4.add(e0, d0));
  v128.store(dst + 2 * stride, e2); v128.store(dst + 3 * stride, f32x4.add(e2, d0));
  v128.store(dst + 4 * stride, e4); v128.store(dst + 5 * stride, f32x4.add(e4, d0));
  v128.store(dst + 6 * stride, e6); v128.store(dst + 7 * stride, f32x4.add(e6, d0));
  v128.store(dst + 8 * stride, e8); v128.store(dst + 9 * stride, f32x4.add(e8, d0));
  v128.store(dst + 10 * stride, e10); v128.store(dst + 11 * stride, f32x4.add(e10, d0));
  v128.store(dst + 12 * stride, e12); v128.store(dst + 13 * stride, f32x4.add(e12, d0));
  v128.store(dst + 14 * stride, e14); v128.store(dst + 15 * stride, f32x4.add(e14, d0));
}

/**
 * Adds groups [g0, g1) of every unit's sums into the block's outputs (from 0 when g0 = 0), one
 * unit at a time, two groups per step: the two table lines are added first, then into the four
 * f32x4 sums (4 sums + 8 loaded lines fit V8's registers; a second unit's sums would spill), so
 * each sum waits for one add per two groups. The plain sums: the layer's epilogue is a pass of
 * its own (affine), which keeps this loop's registers free.
 */
export function accumulate(table: usize, g0: i32, g1: i32, kGroups: i32, bits: usize, units: i32, ob: usize): void {
  const rb = <usize>kGroups, len = <usize>(g1 - g0), pairs = len & ~1, first = g0 == 0;
  const zero = f32x4.splat(0);
  for (let n = 0; n < units; n++) {
    const o = ob + <usize>n * LANE_BYTES;
    const w = bits + <usize>n * rb + <usize>g0;
    let a = first ? zero : v128.load(o), b = first ? zero : v128.load(o, 16);
    let c = first ? zero : v128.load(o, 32), d = first ? zero : v128.load(o, 48);
    let t = table;
    for (let g: usize = 0; g < pairs; g += 2) {
      const p = t + (<usize>load<u8>(w + g) << 6), q = t + GROUP_TABLE + (<usize>load<u8>(w + g, 1) << 6);
      a = f32x4.add(a, f32x4.add(v128.load(p), v128.load(q)));
      b = f32x4.add(b, f32x4.add(v128.load(p, 16), v128.load(q, 16)));
      c = f32x4.add(c, f32x4.add(v128.load(p, 32), v128.load(q, 32)));
      d = f32x4.add(d, f32x4.add(v128.load(p, 48), v128.load(q, 48)));
      t += 2 * GROUP_TABLE;
    }
    if (pairs < len) {
      const p = t + (<usize>load<u8>(w + pairs) << 6);
      a = f32x4.add(a, v128.load(p)); b = f32x4.add(b, v128.load(p, 16));
      c = f32x4.add(c, v128.load(p, 32)); d = f32x4.add(d, v128.load(p, 48));
    }
    v128.store(o, a); v128.store(o, b, 16); v128.store(o, c, 32); v128.store(o, d, 48);
  }
}

/**
 * The epilogue of a block's sums [units][16 rows] at ob, in place: y = scale[n] * s + shift[n],
 * then max(y, 0) when relu (the dense layers, denseLut and denseLut4, and the convolutions).
 */
export function affine(ob: usize, units: i32, scale: usize, shift: usize, relu: i32): void {
  const z = f32x4.splat(0);
  for (let n = 0; n < units; n++) {
    const o = ob + <usize>n * LANE_BYTES, p = <usize>n << 2;
    const s = f32x4.splat(load<f32>(scale + p)), k = f32x4.splat(load<f32>(shift + p));
    for (let q: usize = 0; q < 64; q += 16) {
      let y = f32x4.add(f32x4.mul(v128.load(o + q), s), k);
      if (relu) y = f32x4.max(y, z);
      v128.store(o + q, y);
    }
  }
}
