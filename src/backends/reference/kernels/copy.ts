import type { KernelArgs } from "../../../kernels/contract.js";
import type { ReferenceBackend } from "../index.js";

/** out = x. */
export function copy(be: ReferenceBackend, { x, out }: KernelArgs["copy"]): void {
  be.data(out).set(be.data(x));
}
