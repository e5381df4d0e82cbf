import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { elementRanges } from "../split.js";

/** out = value: wasm/kernels/fill.ts, split by elements. */
export const fill: KernelImpl<WasmBackend, "fill"> = (be, { out, value }) => {
  be.dispatch("fill", [be.ptr(out), value], elementRanges(out.size, be.threads));
};
