import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { elementRanges } from "../split.js";

/** out = x: wasm/kernels/copy.ts, split by elements. */
export const copy: KernelImpl<WasmBackend, "copy"> = (be, { x, out }) => {
  be.dispatch("copy", [be.ptr(x), be.ptr(out)], elementRanges(x.size, be.threads));
};
