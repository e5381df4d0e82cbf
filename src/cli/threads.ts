import { availableParallelism } from "node:os";

/** Default thread count of the wasm backend: the number of cores. */
export function defaultThreads(): number {
  return availableParallelism();
}
