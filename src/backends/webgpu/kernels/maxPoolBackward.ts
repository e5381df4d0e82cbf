import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { groups1d, program } from "../program.js";
import { maxPoolBackwardWgsl } from "../wgsl/maxPoolBackward.js";
import { POOL_PARAMS, poolGeometry } from "./maxPool.js";

const PROGRAM = program(
  "maxPoolBackward",
  POOL_PARAMS,
  [
    { name: "x", write: false, elem: "u32" },
    { name: "dy", write: false },
    { name: "dx", write: true },
  ],
  maxPoolBackwardWgsl,
);

/** dx[p] = sum of dy over the windows whose argmax is p, one invocation per input position. */
export const maxPoolBackward: KernelImpl<WebGpuBackend, "maxPoolBackward"> = (be, { x, dy, dx, window, stride }) => {
  if (dx.size)
    be.dispatch(PROGRAM, [x, dy, dx], [dx.size, ...poolGeometry(x, dy, window, stride)], groups1d(dx.size, 256));
};
