import type { KernelArgs } from "../../../kernels/contract.js";
import type { ReferenceBackend } from "../index.js";

/** out[n] = sum_m x[m,n]. */
export function columnSum(be: ReferenceBackend, { x, out }: KernelArgs["columnSum"]): void {
  const X = be.data(x),
    Y = be.data(out);
  const N = out.size,
    M = x.size / N;
  for (let n = 0; n < N; n++) {
    let s = 0;
    for (let m = 0; m < M; m++) s += X[m * N + n];
    Y[n] = s;
  }
}
