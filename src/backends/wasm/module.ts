import type { KernelName } from "../../kernels/contract.js";
import { KERNELS_RELAXED_WASM_BASE64, KERNELS_WASM_BASE64, KERNELS_WASM_MAX_PAGES } from "./kernels.wasm.generated.js";
import { decodeBase64 } from "../../core/base64.js";
import type { SimdLevel } from "./simd.js";

/** Bytes in a WebAssembly page. */
export const PAGE_BYTES = 65536;

/** The most memory the module accepts (its declared maximum), in bytes. */
export const MODULE_MAX_BYTES = KERNELS_WASM_MAX_PAGES * PAGE_BYTES;

/** A kernel export: positional numbers as declared in wasm/kernels/<name>.ts (pointers are byte offsets). */
export type KernelFunction = (...args: number[]) => void;

/** The module's exports: one function per kernel of the contract, plus layout queries. */
export type KernelExports = Record<KernelName, KernelFunction> & {
  /** The first byte the host may use. */
  heapBase(): number;
  /** Bytes of scratch matmul needs per thread. */
  matmulScratchBytes(): number;
  /** Bytes of scratch the convolutions need per thread. */
  convScratchBytes(): number;
  /** Bytes of scratch binaryMatmul needs per thread, for K inputs and N units. */
  binaryMatmulScratchBytes(K: number, N: number): number;
};

const compiled = new Map<SimdLevel, Promise<WebAssembly.Module>>();

/** The compiled kernels module of a SIMD level (compiled once per process, shared by every backend and thread). */
export function kernelsModule(simd: SimdLevel): Promise<WebAssembly.Module> {
  let module = compiled.get(simd);
  if (!module) {
    module = WebAssembly.compile(decodeBase64(simd === "relaxed" ? KERNELS_RELAXED_WASM_BASE64 : KERNELS_WASM_BASE64));
    compiled.set(simd, module);
  }
  return module;
}

/** Instantiates the module on a shared memory (the module has no data or start section). */
export function instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory): KernelExports {
  return new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
}
