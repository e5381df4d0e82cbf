import { storeF64AsF32, zeroF64 } from "./columns";

/**
 * columnSum (contract: out[n] = sum_m x[m,n]), columns [c0, c1) of x: [M,N].
 * Sums in float64 in the order m = 0, 1, ... as the reference does, so the result equals the
 * reference exactly. Walks x row by row (streaming) with the per-column float64 sums in
 * `scratch` (8 bytes per column), two columns per f64x2.
 */
export function columnSum(x: usize, out: usize, M: i32, N: i32, c0: i32, c1: i32, scratch: usize): void {
  const acc = scratch - (<usize>c0 << 3); // acc + 8c is column c's sum
  zeroF64(acc, c0, c1);
  const rowBytes = <usize>N << 2;
  for (let m = 0; m < M; m++) {
    const row = x + <usize>m * rowBytes;
    let c = c0;
    for (; c + 2 <= c1; c += 2) {
      const a = acc + (<usize>c << 3);
      v128.store(a, f64x2.add(v128.load(a), f64x2.promote_low_f32x4(v128.load64_zero(row + (<usize>c << 2)))));
    }
    if (c < c1) {
      const a = acc + (<usize>c << 3);
      store<f64>(a, load<f64>(a) + <f64>load<f32>(row + (<usize>c << 2)));
    }
  }
  storeF64AsF32(acc, out, c0, c1);
}
