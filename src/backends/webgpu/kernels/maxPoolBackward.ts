import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { bindings } from "../program.js";
import { maxPoolBackwardWgsl } from "../wgsl/maxPoolBackward.js";
import { dispatchElementwise, elementwiseProgram } from "./launch.js";
import { POOL_GEOMETRY, poolGeometry } from "./maxPool.js";

const PROGRAM = elementwiseProgram(
  "maxPoolBackward",
  POOL_GEOMETRY,
  [{ name: "x", write: false, elem: "u32" }, ...bindings(["dy"], ["dx"])],
  maxPoolBackwardWgsl,
);

/** dx[p] = sum of dy over the windows whose argmax is p, one invocation per input position. */
export const maxPoolBackward: KernelImpl<WebGpuBackend, "maxPoolBackward"> = (be, { x, dy, dx, window, stride }) =>
  dispatchElementwise(be, PROGRAM, [x, dy, dx], dx.size, poolGeometry(x, dy, window, stride));
