import { elementwiseMain } from "./common.js";

/** multiply: out = a * b (one correctly rounded float32 product, as the reference stores it). */
export const multiplyWgsl = (): string => elementwiseMain("  out[i] = a[i] * b[i];");
