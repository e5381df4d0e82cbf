import { LANE_BYTES } from "./denseLut";

/**
 * denseNibbleRow: the layer of denseLut.ts for one row (batch 1, and the few rows left over
 * after the full 16-row blocks), 16 units at a time in SIMD: the lookup itself is a byte
 * shuffle.
 *
 *   s[n] = sum_q T_q[nibble q of unit n],  T_q[l] = sum_{j<4} (bit j of l ? +x[4q+j] : -x[4q+j])
 *   y[n] = act(scale[n] * s[n] + shift[n])
 *
 * Each group of 4 inputs has 16 signed sums T_q (f32). Their 64 bytes are stored as 4 byte
 * planes (plane k: byte k of T_q[0..15]), so that i8x16.swizzle(plane k, 16 units' nibbles)
 * gives byte k of the 16 units' table entries; three rounds of byte shuffles reassemble them
 * into four f32x4 of sums. Per group of 4 inputs and 16 units: 5 loads, 4 swizzles, 8 shuffles
 * and 4 adds - no multiplication, and no scalar table reads (the batch-1 bottleneck of the
 * scalar one-row kernel it replaced: 1.6x faster on the MNIST MLP). The sums are in another order than denseLut's (groups of 4 inputs, not 8):
 * the same within float32 rounding.
 *
 * Layouts: x and out as denseLut (the row is lane `lane` of the blocked activations at xb;
 * outputs to the same lane at ob, units padded to 8 with zeros); `nibbles` from nibbleTranspose
 * (2 kGroups rows of unitsPad16 bytes); `planes`: scratch of 64 bytes per group of 4 inputs
 * (nibblePlaneBytes).
 */

/** Units padded to a multiple of 16 (the nibble rows' length). */
@inline
function pad16(units: i32): usize {
  return <usize>((units + 15) & ~15);
}

/** Bytes of the transposed nibbles of a layer (nibbleTranspose's output). */
export function nibbleBytes(kGroups: i32, units: i32): i32 {
  return <i32>(<usize>(2 * kGroups) * pad16(units));
}

/** Bytes of plane scratch for a layer of kGroups groups of 8 inputs. */
export function nibblePlaneBytes(kGroups: i32): i32 {
  return 2 * kGroups * 64;
}

/**
 * The weights of a layer (denseLut layout: unit n's row of kGroups bytes at bits + n kGroups,
 * bit j of byte g = the sign of input 8g + j) as nibble rows: byte q unitsPad16 + n = nibble q of
 * unit n (q = 2g: bits 0-3 of byte g, q = 2g + 1: bits 4-7); padding units are 0.
 */
export function nibbleTranspose(bits: usize, kGroups: i32, units: i32, out: usize): void {
  const up = pad16(units), rb = <usize>kGroups;
  for (let g: usize = 0; g < rb; g++) {
    const lo = out + (g << 1) * up, hi = lo + up;
    for (let n: usize = 0; n < up; n++) {
      const v: u32 = n < <usize>units ? <u32>load<u8>(bits + n * rb + g) : 0;
      store<u8>(lo + n, v & 15);
      store<u8>(hi + n, v >> 4);
    }
  }
}

export function denseNibbleRow(
  xb: usize, lane: i32, kGroups: i32, nibbles: usize, units: i32, scale: usize, shift: usize, relu: i32,
  ob: usize, planes: usize,
): void {
  const ln = <usize>lane << 2, nq = <usize>(2 * kGroups), up = pad16(units);
  for (let q: usize = 0; q < nq; q++) buildPlanes(xb + (q << 2) * LANE_BYTES + ln, planes + (q << 6));
  const zero = f32x4.splat(0);
  for (let n0: usize = 0; n0 < up; n0 += 16) {
    let a0 = zero, a1 = zero, a2 = zero, a3 = zero;
    let p = planes, w = nibbles + n0;
    for (let q: usize = 0; q < nq; q++) {
      const idx = v128.load(w);
      const b0 = i8x16.swizzle(v128.load(p), idx), b1 = i8x16.swizzle(v128.load(p, 16), idx);
      const b2 = i8x16.swizzle(v128.load(p, 32), idx), b3 = i8x16.swizzle(v128.load(p, 48), idx);
      const lo01 = i8x16.shuffle(b0, b1, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
      const hi01 = i8x16.shuffle(b0, b1, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
      const lo23 = i8x16.shuffle(b2, b3, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
      const hi23 = i8x16.shuffle(b2, b3, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
      a0 = f32x4.add(a0, i8x16.shuffle(lo01, lo23, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23));
      a1 = f32x4.add(a1, i8x16.shuffle(lo01, lo23, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31));
      a2 = f32x4.add(a2, i8x16.shuffle(hi01, hi23, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23));
      a3 = f32x4.add(a3, i8x16.shuffle(hi01, hi23, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31));
      p += 64;
      w += up;
    }
    epilogue4(a0, n0, units, scale, shift, relu, ob + ln);
    epilogue4(a1, n0 + 4, units, scale, shift, relu, ob + ln);
    epilogue4(a2, n0 + 8, units, scale, shift, relu, ob + ln);
    epilogue4(a3, n0 + 12, units, scale, shift, relu, ob + ln);
  }
  const unitsPad = <usize>((units + 7) & ~7);
  for (let n = <usize>units; n < unitsPad; n++) store<f32>(ob + n * LANE_BYTES + ln, 0);
}

/**
 * The 16 signed sums of the 4 inputs at x (stride LANE_BYTES), T[4h + l] = (A[l] - S) + B[h] with
 * S = the sum of the 4, A = 2 x (0, v0, v1, v0 + v1), B = 2 x (0, v2, v3, v2 + v3), as 4 byte planes at dst.
 */
@inline
function buildPlanes(x: usize, dst: usize): void {
  const v0 = load<f32>(x), v1 = load<f32>(x, LANE_BYTES), v2 = load<f32>(x, 2 * LANE_BYTES), v3 = load<f32>(x, 3 * LANE_BYTES);
  const s = (v0 + v1) + (v2 + v3);
  const d0 = v0 + v0, d1 = v1 + v1, d2 = v2 + v2, d3 = v3 + v3;
  let a = f32x4.splat(-s);
  a = f32x4.replace_lane(a, 1, d0 - s);
  a = f32x4.replace_lane(a, 2, d1 - s);
  a = f32x4.replace_lane(a, 3, (d0 + d1) - s);
  const t0 = a, t1 = f32x4.add(a, f32x4.splat(d2)), t2 = f32x4.add(a, f32x4.splat(d3)), t3 = f32x4.add(a, f32x4.splat(d2 + d3));
  // bytes k of each float together (u_h: i32 lane k = byte k of T[4h..4h+3]), then a 4 x 4 transpose of i32 lanes
  const u0 = i8x16.shuffle(t0, t0, 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  const u1 = i8x16.shuffle(t1, t1, 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  const u2 = i8x16.shuffle(t2, t2, 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  const u3 = i8x16.shuffle(t3, t3, 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  const r0 = i32x4.shuffle(u0, u1, 0, 4, 1, 5), r1 = i32x4.shuffle(u0, u1, 2, 6, 3, 7);
  const r2 = i32x4.shuffle(u2, u3, 0, 4, 1, 5), r3 = i32x4.shuffle(u2, u3, 2, 6, 3, 7);
  v128.store(dst, i32x4.shuffle(r0, r2, 0, 1, 4, 5));
  v128.store(dst, i32x4.shuffle(r0, r2, 2, 3, 6, 7), 16);
  v128.store(dst, i32x4.shuffle(r1, r3, 0, 1, 4, 5), 32);
  v128.store(dst, i32x4.shuffle(r1, r3, 2, 3, 6, 7), 48);
}

/** y = act(scale s + shift) for units n..n+3 (those < units), to their lanes of the block at o. */
@inline
function epilogue4(acc: v128, n: usize, units: i32, scale: usize, shift: usize, relu: i32, o: usize): void {
  const m = <usize>units;
  if (n < m) epilogue1(f32x4.extract_lane(acc, 0), n, scale, shift, relu, o);
  if (n + 1 < m) epilogue1(f32x4.extract_lane(acc, 1), n + 1, scale, shift, relu, o);
  if (n + 2 < m) epilogue1(f32x4.extract_lane(acc, 2), n + 2, scale, shift, relu, o);
  if (n + 3 < m) epilogue1(f32x4.extract_lane(acc, 3), n + 3, scale, shift, relu, o);
}

@inline
function epilogue1(s: f32, k: usize, scale: usize, shift: usize, relu: i32, o: usize): void {
  const y = load<f32>(scale + (k << 2)) * s + load<f32>(shift + (k << 2));
  store<f32>(o + k * LANE_BYTES, relu && y <= 0 ? 0 : y); // as f32x4.max(y, 0): NaN stays NaN
}
