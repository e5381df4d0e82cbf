import { elementwiseMain } from "./common.js";

/** biasAdd: out[m,n] = x[m,n] + bias[n] (one correctly rounded float32 sum). */
export const biasAddWgsl = (): string => elementwiseMain("  out[i] = x[i] + bias[i % P.N];");
