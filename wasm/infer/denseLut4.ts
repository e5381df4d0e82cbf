import { half, LANE_BYTES } from "./denseLut";

/**
 * denseLut4 (dense.ts, on this file's tables): denseLut's layer (the same formula, layouts and
 * epilogue) with tables of 4 inputs instead of 8, for layers with few units (a convolution's
 * filters):
 *   T[q][l] = sum_{j<4} (bit j of l ? +x[4q+j] : -x[4q+j]),  l = a nibble of a weight byte
 *   s[m, n] = sum_g T[2g][low nibble of byte g] + T[2g+1][high nibble]
 * A table is 16 entries (1 KiB for 16 rows) instead of 256, and a weight byte takes two reads
 * instead of one: per block and group of 8 inputs, 32 entries built + 2 reads per unit against
 * 256 + 1 (denseLut). Fewer than DENSE_LUT4_UNITS units: this kernel is the cheaper.
 */
export const DENSE_LUT4_UNITS: i32 = 192;

/** 1 KiB: one table, the 16 signed sums of 4 inputs, 16 rows each. */
export const T4: usize = 16 * LANE_BYTES;
/** Byte groups per chunk: 2 x 64 tables of 1 KiB = 128 KiB (within denseLutTableBytes()). */
export const CHUNK4: i32 = 64;

/** The two 4-input tables of each group of [g0, g1) (at most CHUNK4 groups): group g's at table + (g - g0) * 2 * T4 (low nibble, then high). */
export function buildTables4(xb: usize, g0: i32, g1: i32, table: usize): void {
  for (let g = g0; g < g1; g++) {
    const xg = xb + (<usize>g << 3) * LANE_BYTES, t = table + <usize>(g - g0) * 2 * T4;
    for (let q: usize = 0; q < 64; q += 16) {
      half(xg + q, t + q);
      half(xg + 4 * LANE_BYTES + q, t + T4 + q);
    }
  }
}

/**
 * Adds groups [g0, g1) of each unit's sums into the block's outputs (from 0 when g0 = 0), 2
 * units at a time (8 independent f32x4 sums). The plain sums: the layer's epilogue is a pass of
 * its own (affine, denseLut.ts), which keeps this loop's registers free (V8 spilled with the
 * epilogue's arguments live: 8.4 -> 5.6 ms on a 16x16x32 -> 64C3 convolution, batch 50).
 */
export function accumulate4(table: usize, g0: i32, g1: i32, kGroups: i32, bits: usize, units: i32, ob: usize): void {
  const rb = <usize>kGroups, len = <usize>(g1 - g0), first = g0 == 0;
  const zero = f32x4.splat(0);
  let n = 0;
  for (; n + 2 <= units; n += 2) {
    const o = ob + <usize>n * LANE_BYTES;
    const w0 = bits + <usize>n * rb + <usize>g0, w1 = w0 + rb;
    let a0 = first ? zero : v128.load(o), b0 = first ? zero : v128.load(o, 16);
    let c0 = first ? zero : v128.load(o, 32), d0 = first ? zero : v128.load(o, 48);
    let a1 = first ? zero : v128.load(o, 64), b1 = first ? zero : v128.load(o, 80);
    let c1 = first ? zero : v128.load(o, 96), d1 = first ? zero : v128.load(o, 112);
    let t = table;
    for (let g: usize = 0; g < len; g++) {
      const u0 = <usize>load<u8>(w0 + g), u1 = <usize>load<u8>(w1 + g);
      const p0 = t + ((u0 & 15) << 6), q0 = t + T4 + ((u0 >> 4) << 6);
      const p1 = t + ((u1 & 15) << 6), q1 = t + T4 + ((u1 >> 4) << 6);
      a0 = f32x4.add(a0, f32x4.add(v128.load(p0), v128.load(q0))); b0 = f32x4.add(b0, f32x4.add(v128.load(p0, 16), v128.load(q0, 16)));
      c0 = f32x4.add(c0, f32x4.add(v128.load(p0, 32), v128.load(q0, 32))); d0 = f32x4.add(d0, f32x4.add(v128.load(p0, 48), v128.load(q0, 48)));
      a1 = f32x4.add(a1, f32x4.add(v128.load(p1), v128.load(q1))); b1 = f32x4.add(b1, f32x4.add(v128.load(p1, 16), v128.load(q1, 16)));
      c1 = f32x4.add(c1, f32x4.add(v128.load(p1, 32), v128.load(q1, 32))); d1 = f32x4.add(d1, f32x4.add(v128.load(p1, 48), v128.load(q1, 48)));
      t += 2 * T4;
    }
    store4(a0, b0, c0, d0, o);
    store4(a1, b1, c1, d1, o + LANE_BYTES);
  }
  if (n < units) {
    const o = ob + <usize>n * LANE_BYTES;
    const w = bits + <usize>n * rb + <usize>g0;
    let a = first ? zero : v128.load(o), b = first ? zero : v128.load(o, 16);
    let c = first ? zero : v128.load(o, 32), d = first ? zero : v128.load(o, 48);
    let t = table;
    for (let g: usize = 0; g < len; g++) {
      const u = <usize>load<u8>(w + g);
      const p = t + ((u & 15) << 6), q = t + T4 + ((u >> 4) << 6);
      a = f32x4.add(a, f32x4.add(v128.load(p), v128.load(q))); b = f32x4.add(b, f32x4.add(v128.load(p, 16), v128.load(q, 16)));
      c = f32x4.add(c, f32x4.add(v128.load(p, 32), v128.load(q, 32))); d = f32x4.add(d, f32x4.add(v128.load(p, 48), v128.load(q, 48)));
      t += 2 * T4;
    }
    store4(a, b, c, d, o);
  }
}

/** Stores one unit's 16 sums at o. */
@inline
export function store4(a: v128, b: v128, c: v128, d: v128, o: usize): void {
  v128.store(o, a); v128.store(o, b, 16); v128.store(o, c, 32); v128.store(o, d, 48);
}
