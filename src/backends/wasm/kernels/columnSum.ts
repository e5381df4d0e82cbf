import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { split } from "../split.js";

/** out[n] = sum_m x[m,n] in float64: wasm/kernels/columnSum.ts, split by columns (multiples of 2), 8 bytes of scratch a column. */
export const columnSum: KernelImpl<WasmBackend, "columnSum"> = (be, { x, out }) => {
  const N = out.size,
    M = x.size / N;
  be.dispatch("columnSum", [be.ptr(x), be.ptr(out), M, N], split(N, M * N, 2, be.threads), 8 * N);
};
