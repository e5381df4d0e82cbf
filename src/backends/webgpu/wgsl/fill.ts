import { elementwiseMain } from "./common.js";

/** fill: out[i] = value, written as the bits of float32(value) (P.value). */
export const fillWgsl = (): string => elementwiseMain("  out[i] = P.value;");
