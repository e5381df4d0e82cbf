/**
 * relu (contract: out = max(x, 0), NaN propagating), elements [start, end).
 * Written as out = x <= 0 ? 0 : x, as the reference: NaN stays NaN and -0 maps to +0.
 */
export function relu(x: usize, out: usize, start: i32, end: i32): void {
  const zero = f32x4.splat(0);
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const p = <usize>i << 2;
    const v = v128.load(x + p);
    v128.store(out + p, v128.andnot(v, f32x4.le(v, zero)));
  }
  for (; i < end; i++) {
    const p = <usize>i << 2;
    const v = load<f32>(x + p);
    store<f32>(out + p, v <= 0 ? 0 : v);
  }
}
