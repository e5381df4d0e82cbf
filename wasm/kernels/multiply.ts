/**
 * multiply (contract: out = a * b), elements [start, end). Exact: the product of two float32
 * is exact in float64, so rounding it once to float32 equals the float32 product.
 */
export function multiply(a: usize, b: usize, out: usize, start: i32, end: i32): void {
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const p = <usize>i << 2;
    v128.store(out + p, f32x4.mul(v128.load(a + p), v128.load(b + p)));
  }
  for (; i < end; i++) {
    const p = <usize>i << 2;
    store<f32>(out + p, load<f32>(a + p) * load<f32>(b + p));
  }
}
