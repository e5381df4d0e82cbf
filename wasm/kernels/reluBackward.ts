/** reluBackward (contract: dx = dy where x > 0, else 0), elements [start, end). Exact. */
export function reluBackward(x: usize, dy: usize, dx: usize, start: i32, end: i32): void {
  const zero = f32x4.splat(0);
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const p = <usize>i << 2;
    v128.store(dx + p, v128.and(v128.load(dy + p), f32x4.gt(v128.load(x + p), zero)));
  }
  for (; i < end; i++) {
    const p = <usize>i << 2;
    store<f32>(dx + p, load<f32>(x + p) > 0 ? load<f32>(dy + p) : 0);
  }
}
