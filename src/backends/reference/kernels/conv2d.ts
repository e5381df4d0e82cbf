import type { KernelArgs } from "../../../kernels/contract.js";
import type { ReferenceBackend } from "../index.js";
import { convDims } from "../../../kernels/convDims.js";

/**
 * out[n,i,j,co] = sum_{ki,kj,ci} x[n, i sh - ph + ki, j sw - pw + kj, ci] w[ki,kj,ci,co]
 * (padding positions contribute 0). Sums in float64, in (ki, kj, ci) order.
 */
export function conv2d(be: ReferenceBackend, { x, w, out, stride, pad }: KernelArgs["conv2d"]): void {
  const X = be.data(x),
    Wt = be.data(w),
    Y = be.data(out);
  const { N, H, W, C, kh, kw, Co, Ho, Wo, sh, sw, ph, pw } = convDims(x, w, out, stride, pad);
  const acc = new Float64Array(Co);
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < Ho; i++) {
      for (let j = 0; j < Wo; j++) {
        acc.fill(0);
        for (let ki = 0; ki < kh; ki++) {
          const r = i * sh - ph + ki; // input row
          if (r < 0 || r >= H) continue;
          for (let kj = 0; kj < kw; kj++) {
            const c = j * sw - pw + kj; // input column
            if (c < 0 || c >= W) continue;
            const xAt = ((n * H + r) * W + c) * C,
              wAt = (ki * kw + kj) * C * Co;
            for (let ci = 0; ci < C; ci++) {
              const v = X[xAt + ci],
                wRow = wAt + ci * Co;
              for (let co = 0; co < Co; co++) acc[co] += v * Wt[wRow + co];
            }
          }
        }
        Y.set(acc, ((n * Ho + i) * Wo + j) * Co);
      }
    }
  }
}
