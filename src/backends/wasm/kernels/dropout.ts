import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { elementRanges } from "../split.js";

/** Inverted dropout with the counter-based mask of src/core/rng.ts: wasm/kernels/dropout.ts, split by elements. */
export const dropout: KernelImpl<WasmBackend, "dropout"> = (be, { x, out, mask, p, key }) => {
  // u >= p <=> bits >= ceil(p 2^24) (u = bits / 2^24 exactly); keep as the reference rounds it
  const threshold = Math.ceil(p * 2 ** 24),
    keep = Math.fround(1 / (1 - p));
  be.dispatch(
    "dropout",
    [be.ptr(x), be.ptr(out), be.ptr(mask), threshold, keep, key >>> 0],
    elementRanges(x.size, be.threads),
  );
};
