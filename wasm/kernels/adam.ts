/**
 * adam (contract; Kingma & Ba as in Lasagne, with the BinaryConnect scale and clip, paper 2.4),
 * elements [start, end), in float32 like the authors' Theano code (floatX = float32):
 *   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
 *   param = param - lrScale a m / (sqrt(v) + eps),  a = lr sqrt(1 - b2^t) / (1 - b1^t)
 *   then, when clip > 0, param = clip(param, -clip, clip)
 * The host passes step = lrScale * a (computed in float64), oneMinusB1 = 1 - b1, oneMinusB2 =
 * 1 - b2, each rounded to float32. Every operation is a float32 operation in the reference's
 * order (no fused multiply-add), so the result equals the reference bit for bit.
 */
export function adam(
  param: usize, grad: usize, m: usize, v: usize, b1: f32, oneMinusB1: f32, b2: f32, oneMinusB2: f32,
  eps: f32, step: f32, clip: f32, start: i32, end: i32,
): void {
  let i = start;
  for (; i + 4 <= end; i += 4) adam4(param, grad, m, v, b1, oneMinusB1, b2, oneMinusB2, eps, step, clip, <usize>i << 2);
  for (; i < end; i++) adam1(param, grad, m, v, b1, oneMinusB1, b2, oneMinusB2, eps, step, clip, <usize>i << 2);
}

/** Four elements at byte offset p. */
@inline function adam4(
  param: usize, grad: usize, m: usize, v: usize, b1: f32, oneMinusB1: f32, b2: f32, oneMinusB2: f32,
  eps: f32, step: f32, clip: f32, p: usize,
): void {
  const g = v128.load(grad + p);
  const mNew = f32x4.add(f32x4.mul(f32x4.splat(b1), v128.load(m + p)), f32x4.mul(f32x4.splat(oneMinusB1), g));
  const vNew = f32x4.add(f32x4.mul(f32x4.splat(b2), v128.load(v + p)), f32x4.mul(f32x4.mul(f32x4.splat(oneMinusB2), g), g));
  v128.store(m + p, mNew);
  v128.store(v + p, vNew);
  const num = f32x4.mul(f32x4.splat(step), mNew);
  const den = f32x4.add(f32x4.sqrt(vNew), f32x4.splat(eps));
  let q = f32x4.sub(v128.load(param + p), f32x4.div(num, den));
  // pmax(q, -clip) = q < -clip ? -clip : q, then pmin(., clip) = clip < . ? clip : .: a NaN (and
  // -0) passes through as with Math.max/min on the reference, and each is one x64 instruction
  // where f32x4.max/min take several (their NaN and signed-zero rules)
  if (clip > 0) q = f32x4.pmin(f32x4.pmax(q, f32x4.splat(-clip)), f32x4.splat(clip));
  v128.store(param + p, q);
}

/** One element at byte offset p. */
@inline function adam1(
  param: usize, grad: usize, m: usize, v: usize, b1: f32, oneMinusB1: f32, b2: f32, oneMinusB2: f32,
  eps: f32, step: f32, clip: f32, p: usize,
): void {
  const g = load<f32>(grad + p);
  const mNew = b1 * load<f32>(m + p) + oneMinusB1 * g;
  const vNew = b2 * load<f32>(v + p) + oneMinusB2 * g * g;
  store<f32>(m + p, mNew);
  store<f32>(v + p, vNew);
  let q = load<f32>(param + p) - (step * mNew) / (Mathf.sqrt(vNew) + eps);
  if (clip > 0) q = Mathf.min(clip, Mathf.max(-clip, q));
  store<f32>(param + p, q);
}
