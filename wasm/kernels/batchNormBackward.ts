import { channelArray, invStd } from "./batchNormShared";
import { loadF32x2, storeF32x2, zeroF64 } from "./columns";

/**
 * batchNormBackward (contract), channels [c0, c1) of x, dy: [M,C]. With xhat = (x - mean) r,
 * g = dy gamma, s = sqrt(variance):
 *   dbeta = sum_m dy;  dgamma = sum_m dy xhat
 *   standard: dx = r (g - mean_m(g) - xhat mean_m(g xhat))
 *   authors:  dx = r (g - mean_m(g)) - xhat mean_m(g xhat) / s      (0 where s = 0)
 * Computed as the reference does: dx = r (gamma dy - meanG) - xhat k, float64 throughout.
 * `scratch` holds three float64 arrays over the channels (24 bytes per channel).
 */
export function batchNormBackward(
  x: usize, dy: usize, gamma: usize, mean: usize, variance: usize, dx: usize, dgamma: usize, dbeta: usize,
  M: i32, C: i32, authors: bool, eps: f64, c0: i32, c1: i32, scratch: usize,
): void {
  const sDy = channelArray(scratch, 0, c0, c1), sDyXhat = channelArray(scratch, 1, c0, c1);
  const r = channelArray(scratch, 2, c0, c1);
  zeroF64(sDy, c0, c1);
  zeroF64(sDyXhat, c0, c1);
  for (let c = c0; c < c1; c++) {
    store<f64>(r + (<usize>c << 3), invStd(authors, <f64>load<f32>(variance + (<usize>c << 2)), eps));
  }
  sums(x, dy, mean, M, C, c0, c1, r, sDy, sDyXhat);
  for (let c = c0; c < c1; c++) {
    const p = <usize>c << 2, q = <usize>c << 3;
    const sumDy = load<f64>(sDy + q), sumDyXhat = load<f64>(sDyXhat + q);
    store<f32>(dbeta + p, <f32>sumDy);
    store<f32>(dgamma + p, <f32>sumDyXhat);
    const g = <f64>load<f32>(gamma + p);
    const meanG = (g * sumDy) / <f64>M, meanGXhat = (g * sumDyXhat) / <f64>M;
    const s = Math.sqrt(<f64>load<f32>(variance + p));
    store<f64>(sDy + q, meanG);
    store<f64>(sDyXhat + q, authors ? (s > 0 ? meanGXhat / s : 0) : load<f64>(r + q) * meanGXhat);
  }
  gradient(x, dy, gamma, mean, dx, M, C, c0, c1, r, sDy, sDyXhat);
}

/** sDy[c] += sum_m dy;  sDyXhat[c] += sum_m dy (x - mean) r. */
function sums(x: usize, dy: usize, mean: usize, M: i32, C: i32, c0: i32, c1: i32, r: usize, sDy: usize, sDyXhat: usize): void {
  for (let m = 0; m < M; m++) {
    const off = (<usize>m * <usize>C) << 2;
    let c = c0;
    for (; c + 2 <= c1; c += 2) {
      const p = <usize>c << 2, q = <usize>c << 3;
      const d = loadF32x2(dy + off + p);
      v128.store(sDy + q, f64x2.add(v128.load(sDy + q), d));
      const t = f64x2.mul(f64x2.mul(d, f64x2.sub(loadF32x2(x + off + p), loadF32x2(mean + p))), v128.load(r + q));
      v128.store(sDyXhat + q, f64x2.add(v128.load(sDyXhat + q), t));
    }
    if (c < c1) {
      const p = <usize>c << 2, q = <usize>c << 3;
      const d = <f64>load<f32>(dy + off + p);
      store<f64>(sDy + q, load<f64>(sDy + q) + d);
      const t = d * (<f64>load<f32>(x + off + p) - <f64>load<f32>(mean + p)) * load<f64>(r + q);
      store<f64>(sDyXhat + q, load<f64>(sDyXhat + q) + t);
    }
  }
}

/** dx = r (gamma dy - meanG) - (x - mean) r k. */
function gradient(
  x: usize, dy: usize, gamma: usize, mean: usize, dx: usize, M: i32, C: i32, c0: i32, c1: i32,
  r: usize, meanG: usize, k: usize,
): void {
  for (let m = 0; m < M; m++) {
    const off = (<usize>m * <usize>C) << 2;
    let c = c0;
    for (; c + 2 <= c1; c += 2) {
      const p = <usize>c << 2, q = <usize>c << 3;
      const rc = v128.load(r + q);
      const xhat = f64x2.mul(f64x2.sub(loadF32x2(x + off + p), loadF32x2(mean + p)), rc);
      const gdy = f64x2.sub(f64x2.mul(loadF32x2(gamma + p), loadF32x2(dy + off + p)), v128.load(meanG + q));
      storeF32x2(dx + off + p, f64x2.sub(f64x2.mul(rc, gdy), f64x2.mul(xhat, v128.load(k + q))));
    }
    if (c < c1) {
      const p = <usize>c << 2, q = <usize>c << 3;
      const rc = load<f64>(r + q);
      const xhat = (<f64>load<f32>(x + off + p) - <f64>load<f32>(mean + p)) * rc;
      const gdy = <f64>load<f32>(gamma + p) * <f64>load<f32>(dy + off + p) - load<f64>(meanG + q);
      store<f32>(dx + off + p, <f32>(rc * gdy - xhat * load<f64>(k + q)));
    }
  }
}
