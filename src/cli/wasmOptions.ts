/** The options that choose and set up the compute backend: --backend, --threads, --simd. */
import { availableParallelism } from "node:os";
import { Option } from "commander";
import { BACKEND_NAMES } from "../backends/index.js";
import { SIMD_CHOICES } from "../backends/wasm/simd.js";
import { MAX_THREADS } from "../backends/wasm/threads.js";
import { integer, oneOf } from "./parse.js";

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

/** `--backend`: reference, wasm, webgpu or auto (the default). */
export function backendOption(): Option {
  return new Option("--backend <name>", "compute backend: auto = webgpu on a GPU, else wasm (the choice is printed)")
    .default("auto")
    .argParser(oneOf(BACKEND_NAMES));
}

/** `--threads`: the wasm backend's threads (default: the number of cores). */
export function threadsOption(): Option {
  return new Option("--threads <n>", "threads of the wasm backend")
    .default(defaultThreads())
    .argParser(integer(1, MAX_THREADS));
}
