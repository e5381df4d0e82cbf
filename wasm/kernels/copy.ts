/** copy (contract: out = x), elements [start, end). */
export function copy(x: usize, out: usize, start: i32, end: i32): void {
  if (end <= start) return;
  const p = <usize>start << 2;
  memory.copy(out + p, x + p, <usize>(end - start) << 2);
}
