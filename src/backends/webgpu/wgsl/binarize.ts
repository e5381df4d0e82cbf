import type { Binarization } from "../../../nn/binarization.js";
import { elementwiseMain, FLOAT_BITS_WGSL, RNG_WGSL } from "./common.js";

/**
 * binarize (BinaryConnect, paper section 2.3), written as bits: P.hBits = float32(+H).
 *   det:   Wb = +H if W >= 0 else -H (zero, also -0, maps to +H; NaN to -H)
 *   stoch: Wb = +H if u(key, i) < p = clip((W/H + 1)/2, 0, 1) else -H
 * The stochastic test must equal the reference's float64 one bit for bit. With u = bits/2^24
 * and k = bits - 2^23, u < (W/H + 1)/2 <=> W > H k 2^-23 (H > 0), decided here exactly in
 * integers, with H's full float64 significand (P.hHi:P.hLo, 53 bits, times 2^P.hExp).
 * The float64 reference differs from exact arithmetic only when W/H is within a float64
 * rounding of the grid point (k = 0: 0 < W/H <= 2^-53 rounds W/H + 1 to 1, so u = 1/2 is not
 * below it), which the k = 0 branch reproduces; other near-ties need W/H within 2^-53 of
 * k 2^-23 without being equal, impossible for a float32 H and astronomically rare otherwise.
 */
export const binarizeWgsl = (mode: Exclude<Binarization, "none">): string => `${FLOAT_BITS_WGSL}
${
  mode === "stoch"
    ? `${RNG_WGSL}
${EXACT_COMPARE_WGSL}`
    : ""
}
${elementwiseMain(
  mode === "stoch"
    ? "  out[i] = select(P.hBits | 0x80000000u, P.hBits, stochPlus(w[i], counterBits(P.key, i)));"
    : "  out[i] = select(P.hBits | 0x80000000u, P.hBits, isNonNegativeBits(w[i]));",
)}`;

/** Exact W > H k 2^-23 on integers (96-bit products); see binarizeWgsl. */
const EXACT_COMPARE_WGSL = `
/** (hi, lo) = x * y, full 64-bit product of two u32. */
fn mul32(x: u32, y: u32) -> vec2u {
  let x0 = x & 0xffffu; let x1 = x >> 16u; let y0 = y & 0xffffu; let y1 = y >> 16u;
  let p00 = x0 * y0; let p01 = x0 * y1; let p10 = x1 * y0; let p11 = x1 * y1;
  let t = p10 + (p00 >> 16u);
  let w1 = (t & 0xffffu) + p01;
  return vec2u(p11 + (t >> 16u) + (w1 >> 16u), (w1 << 16u) | (p00 & 0xffffu));
}
/** (hHi:hLo) * k as 96 bits (x = most significant word); hHi < 2^21, k < 2^24. */
fn mulH(k: u32) -> vec3u {
  let lo = mul32(P.hLo, k);
  let hi = mul32(P.hHi, k);
  let mid = lo.x + hi.y;
  return vec3u(hi.x + select(0u, 1u, mid < lo.x), mid, lo.y);
}
fn bitLength96(v: vec3u) -> i32 {
  if (v.x != 0u) { return i32(firstLeadingBit(v.x)) + 65; }
  if (v.y != 0u) { return i32(firstLeadingBit(v.y)) + 33; }
  if (v.z != 0u) { return i32(firstLeadingBit(v.z)) + 1; }
  return 0;
}
fn shl96(v: vec3u, s: u32) -> vec3u {
  var w = v;
  var r = s;
  if (r >= 64u) { w = vec3u(w.z, 0u, 0u); r -= 64u; } else if (r >= 32u) { w = vec3u(w.y, w.z, 0u); r -= 32u; }
  if (r == 0u) { return w; }
  return vec3u((w.x << r) | (w.y >> (32u - r)), (w.y << r) | (w.z >> (32u - r)), w.z << r);
}
/** sign(a 2^ea - b 2^eb) for a, b > 0 (a < 2^24, b < 2^77). */
fn compareMagnitudes(a: u32, ea: i32, b: vec3u, eb: i32) -> i32 {
  let ta = i32(firstLeadingBit(a)) + 1 + ea;
  let tb = bitLength96(b) + eb;
  if (ta != tb) { return select(-1, 1, ta > tb); }
  var A = vec3u(0u, 0u, a);
  var B = b;
  if (ea > eb) { A = shl96(A, u32(ea - eb)); } else if (eb > ea) { B = shl96(B, u32(eb - ea)); }
  if (A.x != B.x) { return select(-1, 1, A.x > B.x); }
  if (A.y != B.y) { return select(-1, 1, A.y > B.y); }
  if (A.z != B.z) { return select(-1, 1, A.z > B.z); }
  return 0;
}
/** +H for weight bits wb and random bits r (24 bits): W > H k 2^-23, k = r - 2^23; k = 0: W > H 2^-53. */
fn stochPlus(wb: u32, r: u32) -> bool {
  let mag = wb & 0x7fffffffu;
  if (mag > 0x7f800000u) { return false; }
  let wNeg = (wb >> 31u) != 0u;
  if (mag == 0x7f800000u) { return !wNeg; }
  let k = i32(r) - 8388608;
  let tNeg = k < 0;
  if (mag == 0u) { return tNeg; }
  if (wNeg != tNeg) { return !wNeg; }
  var kAbs = u32(abs(k));
  var shift = -23;
  if (k == 0) { kAbs = 1u; shift = -53; }
  let e = mag >> 23u;
  var wm = mag & 0x7fffffu;
  var we = -149;
  if (e != 0u) { wm |= 0x800000u; we = i32(e) - 150; }
  let c = compareMagnitudes(wm, we, mulH(kAbs), P.hExp + shift);
  return select((c < 0), (c > 0), !wNeg);
}`;
