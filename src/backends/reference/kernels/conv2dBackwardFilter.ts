import type { KernelArgs } from "../../../kernels/contract.js";
import type { ReferenceBackend } from "../index.js";
import { convDims } from "../../../kernels/convDims.js";

/** dw[ki,kj,ci,co] = sum_{n,i,j} x[n, i sh - ph + ki, j sw - pw + kj, ci] dy[n,i,j,co] (float64 sums). */
export function conv2dBackwardFilter(
  be: ReferenceBackend,
  { x, dy, dw, stride, pad }: KernelArgs["conv2dBackwardFilter"],
): void {
  const X = be.data(x),
    dY = be.data(dy),
    dW = be.data(dw);
  const { N, H, W, C, kh, kw, Co, Ho, Wo, sh, sw, ph, pw } = convDims(x, dw, dy, stride, pad);
  const acc = new Float64Array(dW.length);
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < Ho; i++) {
      for (let j = 0; j < Wo; j++) {
        const dyAt = ((n * Ho + i) * Wo + j) * Co;
        for (let ki = 0; ki < kh; ki++) {
          const r = i * sh - ph + ki;
          if (r < 0 || r >= H) continue;
          for (let kj = 0; kj < kw; kj++) {
            const c = j * sw - pw + kj;
            if (c < 0 || c >= W) continue;
            const xAt = ((n * H + r) * W + c) * C,
              wAt = (ki * kw + kj) * C * Co;
            for (let ci = 0; ci < C; ci++) {
              const v = X[xAt + ci],
                wRow = wAt + ci * Co;
              for (let co = 0; co < Co; co++) acc[wRow + co] += v * dY[dyAt + co];
            }
          }
        }
      }
    }
  }
  dW.set(acc);
}
