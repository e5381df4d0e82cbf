import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { split } from "../split.js";

/** Max pooling, four channels at a time: wasm/kernels/maxPool.ts, split by images. */
export const maxPool: KernelImpl<WasmBackend, "maxPool"> = (be, { x, out, window, stride }) => {
  const [N, H, W, C] = x.shape,
    [, Ho, Wo] = out.shape;
  be.dispatch(
    "maxPool",
    [be.ptr(x), be.ptr(out), H, W, C, Ho, Wo, ...window, ...stride],
    split(N, x.size, 1, be.threads),
  );
};
