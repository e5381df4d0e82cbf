import { elementwiseMain } from "./common.js";

/** copy: out[i] = x[i], as bits (NaN payloads, -0 and subnormals unchanged). */
export const copyWgsl = (): string => elementwiseMain("  out[i] = x[i];");
