import { channelArray } from "./batchNormShared";
import { loadF32x2, storeF32x2 } from "./columns";

/**
 * batchNormInfer (contract), rows [r0, r1) of x: [M,C]:
 *   out = (x - runningMean) * r * gamma + beta,
 *   r = 1/(runningScale + eps) (authors: runningScale is the std) | 1/sqrt(runningScale + eps) (standard: the variance)
 * float64 in the reference's order (equal to the reference). `scratch` holds r for all C channels (8 bytes each).
 */
export function batchNormInfer(
  x: usize, gamma: usize, beta: usize, out: usize, runningMean: usize, runningScale: usize,
  C: i32, authors: bool, eps: f64, r0: i32, r1: i32, scratch: usize,
): void {
  const r = channelArray(scratch, 0, 0, C);
  for (let c = 0; c < C; c++) {
    const s = <f64>load<f32>(runningScale + (<usize>c << 2));
    store<f64>(r + (<usize>c << 3), authors ? 1 / (s + eps) : 1 / Math.sqrt(s + eps));
  }
  for (let m = r0; m < r1; m++) {
    const off = (<usize>m * <usize>C) << 2;
    let c = 0;
    for (; c + 2 <= C; c += 2) {
      const p = <usize>c << 2;
      const xh = f64x2.mul(f64x2.sub(loadF32x2(x + off + p), loadF32x2(runningMean + p)), v128.load(r + (<usize>c << 3)));
      storeF32x2(out + off + p, f64x2.add(f64x2.mul(xh, loadF32x2(gamma + p)), loadF32x2(beta + p)));
    }
    if (c < C) {
      const p = <usize>c << 2;
      const xh = (<f64>load<f32>(x + off + p) - <f64>load<f32>(runningMean + p)) * load<f64>(r + (<usize>c << 3));
      store<f32>(out + off + p, <f32>(xh * <f64>load<f32>(gamma + p) + <f64>load<f32>(beta + p)));
    }
  }
}
