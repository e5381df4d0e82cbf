import type { KernelName } from "../../kernels/contract.js";
import type { KernelsWasmExports } from "./kernels.wasm.generated.js";

// The types of the module's exports, apart from module.ts: WasmBackend.dispatch's declaration
// names them, and the shipped declarations it reaches must name no WebAssembly type (they
// type-check in projects without the DOM library; see test/consumer.test.ts).

/**
 * The module's exports: one function per kernel of the contract, with its name, plus the layout
 * queries (heapBase, matmulScratchBytes, convScratchBytes, binaryMatmulScratchBytes, convLutScratchBytes, winogradWorkFloats,
 * winogradProductScratchBytes, winogradGroupScratchBytes). Declared
 * by wasm/build.mjs from the AssemblyScript sources (kernels.wasm.generated.ts): each export
 * with its parameters as wasm/kernels/<name>.ts declares them.
 */
export type KernelExports = KernelsWasmExports;

/**
 * The parameters of kernel K's export, named and typed (a labeled tuple). A kernel of the
 * contract without an export of its name fails the type check here.
 */
export type KernelParams<K extends KernelName> = Parameters<KernelExports[K]>;

/** How the thread pool calls an export: positional numbers (see KernelParams for each kernel's). */
export type KernelFunction = (...args: number[]) => void;

/** Every prefix of a tuple, labels kept: [], [p0], [p0, p1], ..., P (readonly). */
export type Prefixes<P extends readonly unknown[]> = Readonly<
  P extends readonly [...infer H, unknown] ? P | Prefixes<H> : P
>;

/** The elements of tuple P after its first C["length"] (labels kept). */
export type Drop<P extends readonly unknown[], C extends readonly unknown[]> = C extends readonly [unknown, ...infer CT]
  ? P extends readonly [unknown, ...infer PT]
    ? Drop<PT, CT>
    : never
  : P;

/** Tuple T without its last element. */
export type DropLast<T extends readonly unknown[]> = T extends readonly [...infer H, unknown] ? H : never;
