import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";

/** The square hinge loss, its gradient and the error count: wasm/kernels/squareHingeLoss.ts; small, on the main thread only. */
export const squareHingeLoss: KernelImpl<WasmBackend, "squareHingeLoss"> = (be, { logits, labels, grad, metrics }) => {
  const [M, K] = logits.shape;
  be.dispatch(
    "squareHingeLoss",
    [be.ptr(logits), be.ptr(labels), grad ? be.ptr(grad) : 0, grad ? 1 : 0, be.ptr(metrics), M, K],
    [[]],
  );
};
