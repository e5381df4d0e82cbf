import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { elementRanges } from "../split.js";

/** Deterministic or stochastic binarization to {-H, +H}: wasm/kernels/binarize.ts, split by elements. */
export const binarize: KernelImpl<WasmBackend, "binarize"> = (be, { w, out, mode, H, key }) => {
  be.dispatch(
    "binarize",
    [be.ptr(w), be.ptr(out), mode === "stoch" ? 1 : 0, H, key >>> 0],
    elementRanges(w.size, be.threads),
  );
};
