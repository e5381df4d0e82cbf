import { MIN_MATMUL_MACS, partsFor } from "../split.js";

/**
 * The convolutions (conv2d.ts, conv2dBackwardInput.ts, conv2dBackwardFilter.ts) are products
 * [M, N] = (M x K) . (K x N) over an implicit im2col matrix (wasm/kernels/convGemm.ts), their
 * output shared in chunks taken from the work counter as matmul's (matmulChunks): the threads
 * of such a call.
 */
export function convThreads(M: number, N: number, K: number, threads: number): number {
  return partsFor(M * N * K, MIN_MATMUL_MACS, threads);
}

/** The per-thread arguments of a call whose threads take their work from the counter: none (dispatch adds the scratch). */
export function counterParts(parts: number): Array<[]> {
  return Array.from({ length: parts }, (): [] => []);
}
