import { availableParallelism } from "node:os";
import { Option } from "commander";
import { SIMD_CHOICES } from "../backends/wasm/simd.js";
import { oneOf } from "./parse.js";

/** Default thread count of the wasm backend: the number of cores. */
export function defaultThreads(): number {
  return availableParallelism();
}

/** `--simd`: the wasm backend's SIMD (src/backends/wasm/simd.ts). */
export function simdOption(): Option {
  return new Option(
    "--simd <mode>",
    "SIMD of the wasm backend: relaxed = fused multiply-add in the matrix products (faster; last bits may differ between machines), baseline = SIMD128 only (the same bits on every machine), auto = relaxed where the engine accepts it",
  )
    .default("auto")
    .argParser(oneOf(SIMD_CHOICES));
}
