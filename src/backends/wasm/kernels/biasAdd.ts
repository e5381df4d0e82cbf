import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { split } from "../split.js";

/** out[m,n] = x[m,n] + bias[n]: wasm/kernels/biasAdd.ts, split by rows. */
export const biasAdd: KernelImpl<WasmBackend, "biasAdd"> = (be, { x, bias, out }) => {
  const [M, N] = x.shape;
  be.dispatch("biasAdd", [be.ptr(x), be.ptr(bias), be.ptr(out), N], split(M, M * N, 1, be.threads));
};
