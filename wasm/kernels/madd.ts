/**
 * acc + a * b: one fused multiply-add where the engine has relaxed SIMD
 * (ASC_FEATURE_RELAXED_SIMD), else a product then a sum. The one multiply-add of matmul's dense
 * and sparse paths (matmul.ts, matmulSparse.ts), so both round alike.
 */
@inline export function madd(a: v128, b: v128, acc: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}
