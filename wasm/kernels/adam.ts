/**
 * adam (contract; Kingma & Ba as in Lasagne, with the BinaryConnect scale and clip, paper 2.4),
 * elements [start, end):
 *   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
 *   param = param - lrScale a m / (sqrt(v) + eps),  a = lr sqrt(1 - b2^t) / (1 - b1^t)
 *   then, when clip > 0, param = clip(param, -clip, clip)
 * The host passes step = lrScale * a, oneMinusB1 = 1 - b1, oneMinusB2 = 1 - b2 (float64, as
 * the reference computes them). The update is float64 in the reference's order (m and v are
 * rounded to float32 before they are used), so the result equals the reference.
 */
export function adam(
  param: usize, grad: usize, m: usize, v: usize, b1: f64, oneMinusB1: f64, b2: f64, oneMinusB2: f64,
  eps: f64, step: f64, clip: f64, start: i32, end: i32,
): void {
  let i = start;
  for (; i + 2 <= end; i += 2) adam2(param, grad, m, v, b1, oneMinusB1, b2, oneMinusB2, eps, step, clip, <usize>i << 2);
  for (; i < end; i++) adam1(param, grad, m, v, b1, oneMinusB1, b2, oneMinusB2, eps, step, clip, <usize>i << 2);
}

/** Two elements at byte offset p, as two float64 lanes. */
@inline function adam2(
  param: usize, grad: usize, m: usize, v: usize, b1: f64, oneMinusB1: f64, b2: f64, oneMinusB2: f64,
  eps: f64, step: f64, clip: f64, p: usize,
): void {
  const g = f64x2.promote_low_f32x4(v128.load64_zero(grad + p));
  const mOld = f64x2.promote_low_f32x4(v128.load64_zero(m + p));
  const vOld = f64x2.promote_low_f32x4(v128.load64_zero(v + p));
  // round m and v to float32 (stored), then use the rounded values, as the reference does
  const mNew = f32x4.demote_f64x2_zero(f64x2.add(f64x2.mul(f64x2.splat(b1), mOld), f64x2.mul(f64x2.splat(oneMinusB1), g)));
  const vNew = f32x4.demote_f64x2_zero(f64x2.add(f64x2.mul(f64x2.splat(b2), vOld), f64x2.mul(f64x2.mul(f64x2.splat(oneMinusB2), g), g)));
  v128.store64_lane(m + p, mNew, 0);
  v128.store64_lane(v + p, vNew, 0);
  const num = f64x2.mul(f64x2.splat(step), f64x2.promote_low_f32x4(mNew));
  const den = f64x2.add(f64x2.sqrt(f64x2.promote_low_f32x4(vNew)), f64x2.splat(eps));
  let q = f64x2.sub(f64x2.promote_low_f32x4(v128.load64_zero(param + p)), f64x2.div(num, den));
  if (clip > 0) q = f64x2.min(f64x2.splat(clip), f64x2.max(f64x2.splat(-clip), q));
  v128.store64_lane(param + p, f32x4.demote_f64x2_zero(q), 0);
}

/** One element at byte offset p. */
@inline function adam1(
  param: usize, grad: usize, m: usize, v: usize, b1: f64, oneMinusB1: f64, b2: f64, oneMinusB2: f64,
  eps: f64, step: f64, clip: f64, p: usize,
): void {
  const g = <f64>load<f32>(grad + p);
  const mNew = <f32>(b1 * <f64>load<f32>(m + p) + oneMinusB1 * g);
  const vNew = <f32>(b2 * <f64>load<f32>(v + p) + oneMinusB2 * g * g);
  store<f32>(m + p, mNew);
  store<f32>(v + p, vNew);
  let q = <f64>load<f32>(param + p) - (step * <f64>mNew) / (Math.sqrt(<f64>vNew) + eps);
  if (clip > 0) q = Math.min(clip, Math.max(-clip, q));
  store<f32>(param + p, <f32>q);
}
