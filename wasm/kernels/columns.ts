/** Helpers for the per-column (per-channel) kernels: float64 arrays indexed by column. */

/** p[c] = 0 (float64) for c in [c0, c1). */
@inline export function zeroF64(p: usize, c0: i32, c1: i32): void {
  if (c1 > c0) memory.fill(p + (<usize>c0 << 3), 0, <usize>(c1 - c0) << 3);
}

/** out[c] = float32(src[c]) for c in [c0, c1) (src float64). */
@inline export function storeF64AsF32(src: usize, out: usize, c0: i32, c1: i32): void {
  for (let c = c0; c < c1; c++) store<f32>(out + (<usize>c << 2), <f32>load<f64>(src + (<usize>c << 3)));
}

/** Two float32 at p, widened to an f64x2. */
@inline export function loadF32x2(p: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(p));
}

/** Stores the two lanes of an f64x2 as two float32 at p. */
@inline export function storeF32x2(p: usize, v: v128): void {
  v128.store64_lane(p, f32x4.demote_f64x2_zero(v), 0);
}
