import type { KernelArgs } from "../../../kernels/contract.js";
import type { ReferenceBackend } from "../index.js";
import { convDims } from "../../../kernels/convDims.js";

/**
 * dx[n,r,c,ci] = sum over (ki, kj, co) such that i = (r + ph - ki) / sh and j = (c + pw - kj) / sw
 * are integers in [0, Ho) x [0, Wo) of dy[n,i,j,co] w[ki,kj,ci,co]. Gathers per input position
 * (float64 sums in (ki, kj, co) order), so positions that no window covers get 0.
 */
export function conv2dBackwardInput(
  be: ReferenceBackend,
  { dy, w, dx, stride, pad }: KernelArgs["conv2dBackwardInput"],
): void {
  const dY = be.data(dy),
    Wt = be.data(w),
    dX = be.data(dx);
  const { N, H, W, C, kh, kw, Co, Ho, Wo, sh, sw, ph, pw } = convDims(dx, w, dy, stride, pad);
  const acc = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    for (let r = 0; r < H; r++) {
      for (let c = 0; c < W; c++) {
        acc.fill(0);
        for (let ki = 0; ki < kh; ki++) {
          const ti = r + ph - ki;
          if (ti < 0 || ti % sh !== 0 || ti / sh >= Ho) continue;
          const i = ti / sh;
          for (let kj = 0; kj < kw; kj++) {
            const tj = c + pw - kj;
            if (tj < 0 || tj % sw !== 0 || tj / sw >= Wo) continue;
            const j = tj / sw;
            const dyAt = ((n * Ho + i) * Wo + j) * Co,
              wAt = (ki * kw + kj) * C * Co;
            for (let ci = 0; ci < C; ci++) {
              let s = 0;
              for (let co = 0; co < Co; co++) s += dY[dyAt + co] * Wt[wAt + ci * Co + co];
              acc[ci] += s;
            }
          }
        }
        dX.set(acc, ((n * H + r) * W + c) * C);
      }
    }
  }
}
