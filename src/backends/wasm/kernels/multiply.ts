import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { elementRanges } from "../split.js";

/** out = a * b element-wise: wasm/kernels/multiply.ts, split by elements. */
export const multiply: KernelImpl<WasmBackend, "multiply"> = (be, { a, b, out }) => {
  be.dispatch("multiply", [be.ptr(a), be.ptr(b), be.ptr(out)], elementRanges(a.size, be.threads));
};
