import type { KernelArgs } from "../../../kernels/contract.js";
import type { ReferenceBackend } from "../index.js";

/** out = value. */
export function fill(be: ReferenceBackend, { out, value }: KernelArgs["fill"]): void {
  be.data(out).fill(value);
}
