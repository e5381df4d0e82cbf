import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { bindings, program } from "../program.js";
import { squareHingeLossWgsl } from "../wgsl/squareHingeLoss.js";

const PARAMS = [
  ["M", "u32"],
  ["K", "u32"],
] as const;
const INPUTS = ["logits", "labels"];
const WITH_GRAD = program("squareHingeLoss+grad", PARAMS, bindings(INPUTS, ["grad", "metrics"]), () =>
  squareHingeLossWgsl(true),
);
const NO_GRAD = program("squareHingeLoss", PARAMS, bindings(INPUTS, ["metrics"]), () => squareHingeLossWgsl(false));

/** Square hinge loss, its gradient (when `grad` is given), and the accumulated [loss * M, errors]. */
export const squareHingeLoss: KernelImpl<WebGpuBackend, "squareHingeLoss"> = (
  be,
  { logits, labels, grad, metrics },
) => {
  const [M, K] = logits.shape;
  if (M === 0 || K === 0) return;
  if (grad) be.dispatch(WITH_GRAD, [logits, labels, grad, metrics], [M, K], [1]);
  else be.dispatch(NO_GRAD, [logits, labels, metrics], [M, K], [1]);
};
