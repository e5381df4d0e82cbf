/**
 * The counter-based RNG of src/core/rng.ts, reproduced bit-exactly (scalar and 4 lanes).
 *
 *   fmix32(h):  h ^= h >>> 16; h *= 0x85ebca6b; h ^= h >>> 13; h *= 0xc2b2ae35; h ^= h >>> 16
 *   bits(key, i) = fmix32(key ^ i * 0x9E3779B1) >>> 8          (24 bits)
 *   u(key, i)    = bits(key, i) / 2^24                           (uniform in [0, 1))
 *
 * Multiplication is modulo 2^32 (Math.imul), as i32.mul and i32x4.mul are.
 */

const MIX1: u32 = 0x85ebca6b;
const MIX2: u32 = 0xc2b2ae35;
const INDEX_MUL: u32 = 0x9e3779b1;

/** Murmur3's 32-bit finalizer (core/rng.ts fmix32). */
@inline export function fmix32(h: u32): u32 {
  h ^= h >>> 16;
  h *= MIX1;
  h ^= h >>> 13;
  h *= MIX2;
  h ^= h >>> 16;
  return h;
}

/** fmix32 on each of 4 lanes. */
@inline export function fmix32x4(h: v128): v128 {
  h = v128.xor(h, i32x4.shr_u(h, 16));
  h = i32x4.mul(h, i32x4.splat(<i32>MIX1));
  h = v128.xor(h, i32x4.shr_u(h, 13));
  h = i32x4.mul(h, i32x4.splat(<i32>MIX2));
  h = v128.xor(h, i32x4.shr_u(h, 16));
  return h;
}

/** bits(key, i) = fmix32(key ^ i * 0x9E3779B1) >>> 8: the 24-bit integer behind u(key, i). */
@inline export function counterBits(key: u32, index: u32): u32 {
  return fmix32(key ^ (index * INDEX_MUL)) >>> 8;
}

/** counterBits for the 4 indices i, i+1, i+2, i+3 (`index4` holds them). */
@inline export function counterBits4(key: u32, index4: v128): v128 {
  const h = v128.xor(i32x4.splat(<i32>key), i32x4.mul(index4, i32x4.splat(<i32>INDEX_MUL)));
  return i32x4.shr_u(fmix32x4(h), 8);
}

/** The lane indices [i, i+1, i+2, i+3]. */
@inline export function lanes4(i: u32): v128 {
  return i32x4.add(i32x4.splat(<i32>i), i32x4(0, 1, 2, 3));
}
