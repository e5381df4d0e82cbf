import type { KernelArgs } from "../../../kernels/contract.js";
import type { ReferenceBackend } from "../index.js";

/** out[M,N] = op(a)[M,K] . op(b)[K,N] (+ out). */
export function matmul(be: ReferenceBackend, { a, b, out, transA, transB, accumulate }: KernelArgs["matmul"]): void {
  const A = be.data(a),
    B = be.data(b),
    C = be.data(out);
  const M = out.shape[0],
    N = out.shape[1];
  const K = transA ? a.shape[0] : a.shape[1];
  // element (i,k) of op(a) and (k,j) of op(b)
  const aAt = transA ? (i: number, k: number) => A[k * M + i] : (i: number, k: number) => A[i * K + k];
  const bAt = transB ? (k: number, j: number) => B[j * K + k] : (k: number, j: number) => B[k * N + j];
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = accumulate ? C[i * N + j] : 0;
      for (let k = 0; k < K; k++) s += aAt(i, k) * bAt(k, j);
      C[i * N + j] = s;
    }
  }
}
