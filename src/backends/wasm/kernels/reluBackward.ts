import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { elementRanges } from "../split.js";

/** dx = dy where x > 0, else 0: wasm/kernels/reluBackward.ts, split by elements. */
export const reluBackward: KernelImpl<WasmBackend, "reluBackward"> = (be, { x, dy, dx }) => {
  be.dispatch("reluBackward", [be.ptr(x), be.ptr(dy), be.ptr(dx)], elementRanges(x.size, be.threads));
};
