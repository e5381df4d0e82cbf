import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { adamConstants } from "../../../kernels/adamConstants.js";
import { elementRanges } from "../split.js";

/** One Adam step, float32 as the reference: wasm/kernels/adam.ts, split by elements. */
export const adam: KernelImpl<WasmBackend, "adam"> = (
  be,
  { param, grad, m, v, lr, beta1, beta2, eps, t, lrScale, clip },
) => {
  const c = adamConstants(lr, beta1, beta2, eps, t, lrScale, clip); // as the reference computes them
  be.dispatch(
    "adam",
    [be.ptr(param), be.ptr(grad), be.ptr(m), be.ptr(v), c.b1, c.oneMinusB1, c.b2, c.oneMinusB2, c.eps, c.step, c.clip],
    elementRanges(param.size, be.threads),
  );
};
