import type { KernelArgs } from "../../../kernels/contract.js";
import type { ReferenceBackend } from "../index.js";

/** out[m,n] = x[m,n] + bias[n]. */
export function biasAdd(be: ReferenceBackend, { x, bias, out }: KernelArgs["biasAdd"]): void {
  const X = be.data(x),
    b = be.data(bias),
    Y = be.data(out);
  const N = bias.size;
  for (let i = 0; i < X.length; i++) Y[i] = X[i] + b[i % N];
}
