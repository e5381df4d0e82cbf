import { BackendError } from "../../../core/errors.js";
import type { KernelArgs } from "../../../kernels/contract.js";
import type { ReferenceBackend } from "../index.js";
import { matmul } from "./matmul.js";

/**
 * out[M,N] = a[M,K] . op(wb), wb in {-H, +H}: the float product itself (the specification),
 * after checking that wb holds one magnitude H > 0 (a misuse would go unnoticed on the fast
 * backends, which only read the signs).
 */
export function binaryMatmul(be: ReferenceBackend, { a, wb, out, transB }: KernelArgs["binaryMatmul"]): void {
  const W = be.data(wb);
  const H = Math.abs(W[0]);
  const bad = W.findIndex((w) => Math.abs(w) !== H);
  if (!(H > 0) || bad >= 0) {
    throw new BackendError(
      `binaryMatmul: wb must hold +H and -H only (one H > 0), found ${bad >= 0 ? `${W[bad]} at ${bad} besides ${W[0]}` : W[0]}`,
    );
  }
  matmul(be, { a, b: wb, out, transA: false, transB, accumulate: false });
}
