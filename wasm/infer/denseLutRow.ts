import { LANE_BYTES } from "./denseLut";

/**
 * denseLutRow: the layer of denseLut.ts for one row (batch 1, and rows left over after the
 * full 16-row blocks), with the same formula and layouts: the row is lane `lane` of the
 * blocked activations at xb, and its outputs go to the same lane of the block at ob. The
 * tables hold scalar f32 entries (1 KiB per group of 8 inputs), built for chunks of 32 groups
 * (32 KiB, in the L1 cache); each unit adds one entry per 8 weights, 4 units at a time.
 */

const ROW_GROUP_TABLE: usize = 256 * 4; // 1 KiB per group
const ROW_CHUNK: i32 = 32; // 32 x 1 KiB = 32 KiB

export function denseLutRow(
  xb: usize, lane: i32, kGroups: i32, bits: usize, units: i32, scale: usize, shift: usize, relu: i32,
  ob: usize, table: usize,
): void {
  const rb = <usize>kGroups, ln = <usize>lane << 2;
  for (let g0 = 0; g0 < kGroups; g0 += ROW_CHUNK) {
    const g1 = min(kGroups, g0 + ROW_CHUNK), len = <usize>(g1 - g0), first = g0 == 0, last = g1 == kGroups;
    buildRowTables(xb + ln, g0, g1, table);
    let n = 0;
    for (; n + 4 <= units; n += 4) {
      const o = ob + <usize>n * LANE_BYTES + ln;
      const w0 = bits + <usize>n * rb + <usize>g0, w1 = w0 + rb, w2 = w1 + rb, w3 = w2 + rb;
      let s0: f32 = first ? 0 : load<f32>(o), s1: f32 = first ? 0 : load<f32>(o, LANE_BYTES);
      let s2: f32 = first ? 0 : load<f32>(o, 2 * LANE_BYTES), s3: f32 = first ? 0 : load<f32>(o, 3 * LANE_BYTES);
      let t = table;
      for (let g: usize = 0; g < len; g++) {
        s0 += load<f32>(t + (<usize>load<u8>(w0 + g) << 2));
        s1 += load<f32>(t + (<usize>load<u8>(w1 + g) << 2));
        s2 += load<f32>(t + (<usize>load<u8>(w2 + g) << 2));
        s3 += load<f32>(t + (<usize>load<u8>(w3 + g) << 2));
        t += ROW_GROUP_TABLE;
      }
      if (last) {
        rowEpilogue(s0, n, scale, shift, relu, o);
        rowEpilogue(s1, n + 1, scale, shift, relu, o + LANE_BYTES);
        rowEpilogue(s2, n + 2, scale, shift, relu, o + 2 * LANE_BYTES);
        rowEpilogue(s3, n + 3, scale, shift, relu, o + 3 * LANE_BYTES);
      } else {
        store<f32>(o, s0); store<f32>(o, s1, LANE_BYTES); store<f32>(o, s2, 2 * LANE_BYTES); store<f32>(o, s3, 3 * LANE_BYTES);
      }
    }
    for (; n < units; n++) {
      const o = ob + <usize>n * LANE_BYTES + ln;
      const w = bits + <usize>n * rb + <usize>g0;
      let s: f32 = first ? 0 : load<f32>(o);
      let t = table;
      for (let g: usize = 0; g < len; g++) {
        s += load<f32>(t + (<usize>load<u8>(w + g) << 2));
        t += ROW_GROUP_TABLE;
      }
      if (last) rowEpilogue(s, n, scale, shift, relu, o);
      else store<f32>(o, s);
    }
  }
  const unitsPad = (units + 7) & ~7;
  for (let n = units; n < unitsPad; n++) store<f32>(ob + <usize>n * LANE_BYTES + ln, 0);
}

/** Scalar tables of groups [g0, g1) for the row at x (stride LANE_BYTES per feature). */
function buildRowTables(x: usize, g0: i32, g1: i32, table: usize): void {
  const lo = table + <usize>ROW_CHUNK * ROW_GROUP_TABLE;
  const hi = lo + 64;
  for (let g = g0; g < g1; g++) {
    const xg = x + (<usize>g << 3) * LANE_BYTES;
    rowHalf(xg, lo);
    rowHalf(xg + 4 * LANE_BYTES, hi);
    const l0 = v128.load(lo), l1 = v128.load(lo, 16), l2 = v128.load(lo, 32), l3 = v128.load(lo, 48);
    let t = table + <usize>(g - g0) * ROW_GROUP_TABLE;
    for (let h: usize = 0; h < 16; h++) {
      const hv = f32x4.splat(load<f32>(hi + (h << 2)));
      v128.store(t, f32x4.add(hv, l0));
      v128.store(t, f32x4.add(hv, l1), 16);
      v128.store(t, f32x4.add(hv, l2), 32);
      v128.store(t, f32x4.add(hv, l3), 48);
      t += 64;
    }
  }
}

/** The 16 signed sums of 4 scalars (at src, src + LANE_BYTES, ...), as 16 consecutive f32 at dst. */
@inline
function rowHalf(src: usize, dst: usize): void {
  const v0 = load<f32>(src), v1 = load<f32>(src, LANE_BYTES), v2 = load<f32>(src, 2 * LANE_BYTES), v3 = load<f32>(src, 3 * LANE_BYTES);
  const d0 = v0 + v0, d1 = v1 + v1, d2 = v2 + v2, d3 = v3 + v3;
  const e0 = -((v0 + v1) + (v2 + v3));
  const e2 = e0 + d1, e4 = e0 + d2, e6 = e4 + d1;
  const e8 = e0 + d3, e10 = e8 + d1, e12 = e8 + d2, e14 = e12 + d1;
  store<f32>(dst, e0); store<f32>(dst, e0 + d0, 4);
  store<f32>(dst, e2, 8); store<f32>(dst, e2 + d0, 12);
  store<f32>(dst, e4, 16); store<f32>(dst, e4 + d0, 20);
  store<f32>(dst, e6, 24); store<f32>(dst, e6 + d0, 28);
  store<f32>(dst, e8, 32); store<f32>(dst, e8 + d0, 36);
  store<f32>(dst, e10, 40); store<f32>(dst, e10 + d0, 44);
  store<f32>(dst, e12, 48); store<f32>(dst, e12 + d0, 52);
  store<f32>(dst, e14, 56); store<f32>(dst, e14 + d0, 60);
}

@inline
function rowEpilogue(s: f32, n: i32, scale: usize, shift: usize, relu: i32, o: usize): void {
  const p = <usize>n << 2;
  const y = load<f32>(scale + p) * s + load<f32>(shift + p);
  store<f32>(o, relu && y <= 0 ? 0 : y); // as f32x4.max(y, 0): NaN stays NaN
}
