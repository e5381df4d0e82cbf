/** fill (contract: out = value), elements [start, end). */
export function fill(out: usize, value: f32, start: i32, end: i32): void {
  const v = f32x4.splat(value);
  let i = start;
  for (; i + 4 <= end; i += 4) v128.store(out + (<usize>i << 2), v);
  for (; i < end; i++) store<f32>(out + (<usize>i << 2), value);
}
