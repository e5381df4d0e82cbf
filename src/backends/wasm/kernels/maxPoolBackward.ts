import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { split } from "../split.js";

/** dx: dy routed to each window's maximum: wasm/kernels/maxPoolBackward.ts, split by images (windows never span two). */
export const maxPoolBackward: KernelImpl<WasmBackend, "maxPoolBackward"> = (be, { x, dy, dx, window, stride }) => {
  const [N, H, W, C] = x.shape,
    [, Ho, Wo] = dy.shape;
  be.dispatch(
    "maxPoolBackward",
    [be.ptr(x), be.ptr(dy), be.ptr(dx), H, W, C, Ho, Wo, ...window, ...stride],
    split(N, x.size, 1, be.threads),
  );
};
