import type { KernelArgs } from "../../../kernels/contract.js";
import type { ReferenceBackend } from "../index.js";
import { convDims } from "../../../kernels/convDims.js";
import { forEachPosition } from "./windows.js";

/**
 * dx[n,r,c,ci] = sum over (ki, kj, co) such that i = (r + ph - ki) / sh and j = (c + pw - kj) / sw
 * are integers in [0, Ho) x [0, Wo) of dy[n,i,j,co] w[ki,kj,ci,co]. Gathers per input position
 * (float64 sums in (ki, kj, co) order), so positions that no window covers get 0.
 */
export function conv2dBackwardInput(be: ReferenceBackend, args: KernelArgs["conv2dBackwardInput"]): void {
  const { dy: dY, w: Wt, dx: dX } = be.buffersOf(args);
  const { N, H, W, C, kh, kw, Co, Ho, Wo, sh, sw, ph, pw } = convDims(args.dx, args.w, args.dy, args.stride, args.pad);
  const acc = new Float64Array(C);
  forEachPosition(N, H, W, (n, r, c, p) => {
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
    dX.set(acc, p * C);
  });
}
