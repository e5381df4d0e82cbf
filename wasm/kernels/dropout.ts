import { counterBits, counterBits4, lanes4 } from "./rng";

/**
 * dropout (contract), elements [start, end):
 *   mask[i] = (u(key, i) >= p) / (1 - p);  out = x * mask.
 * u = bits / 2^24 with 24-bit integer bits (see rng.ts), so u >= p  <=>  bits >= ceil(p 2^24):
 * the host passes threshold = ceil(p 2^24) and keep = float32(1 / (1 - p)), and the
 * comparison is exact in integers (the mask equals the reference bit for bit).
 */
export function dropout(x: usize, out: usize, mask: usize, threshold: u32, keep: f32, key: u32, start: i32, end: i32): void {
  const t4 = i32x4.splat(threshold), k4 = f32x4.splat(keep);
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const p = <usize>i << 2;
    const m = v128.and(k4, i32x4.ge_u(counterBits4(key, lanes4(i)), t4));
    v128.store(mask + p, m);
    v128.store(out + p, f32x4.mul(v128.load(x + p), m));
  }
  for (; i < end; i++) {
    const p = <usize>i << 2;
    const m: f32 = counterBits(key, i) >= threshold ? keep : 0;
    store<f32>(mask + p, m);
    store<f32>(out + p, load<f32>(x + p) * m);
  }
}
