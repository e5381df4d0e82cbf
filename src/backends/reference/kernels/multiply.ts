import type { KernelArgs } from "../../../kernels/contract.js";
import type { ReferenceBackend } from "../index.js";

/** out = a * b elementwise. */
export function multiply(be: ReferenceBackend, { a, b, out }: KernelArgs["multiply"]): void {
  const A = be.data(a),
    B = be.data(b),
    Y = be.data(out);
  for (let i = 0; i < A.length; i++) Y[i] = A[i] * B[i];
}
