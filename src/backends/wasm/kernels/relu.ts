import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { elementRanges } from "../split.js";

/** out = max(x, 0): wasm/kernels/relu.ts, split by elements. */
export const relu: KernelImpl<WasmBackend, "relu"> = (be, { x, out }) => {
  be.dispatch("relu", [be.ptr(x), be.ptr(out)], elementRanges(x.size, be.threads));
};
