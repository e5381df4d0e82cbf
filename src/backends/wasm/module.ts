import { KERNELS_RELAXED_WASM_BASE64, KERNELS_WASM_BASE64, KERNELS_WASM_MAX_PAGES } from "./kernels.wasm.generated.js";
import { decodeBase64 } from "../../core/base64.js";
import { BackendError } from "../../core/errors.js";
import type { KernelExports } from "./signatures.js";
import type { SimdLevel } from "./simd.js";

/** Bytes in a WebAssembly page. */
export const PAGE_BYTES = 65536;

/** The most memory the module accepts (its declared maximum), in bytes. */
export const MODULE_MAX_BYTES = KERNELS_WASM_MAX_PAGES * PAGE_BYTES;

const compiled = new Map<string, Promise<WebAssembly.Module>>();

/**
 * The compiled kernels module of a SIMD level (compiled once per process, shared by every
 * backend and thread). The module imports a shared memory; with `shared` false, a copy whose
 * memory import is unshared (see unsharedMemoryImport), for one thread where shared memories
 * are not allowed (a page that is not cross-origin isolated).
 */
export function kernelsModule(simd: SimdLevel, shared = true): Promise<WebAssembly.Module> {
  const key = `${simd} ${shared}`;
  let module = compiled.get(key);
  if (!module) {
    const bytes = decodeBase64(simd === "relaxed" ? KERNELS_RELAXED_WASM_BASE64 : KERNELS_WASM_BASE64);
    module = WebAssembly.compile(shared ? bytes : unsharedMemoryImport(bytes));
    compiled.set(key, module);
  }
  return module;
}

/**
 * A copy of a module whose imported memory is declared unshared: the limits flag of the memory
 * import (0x03: shared, with a maximum) becomes 0x01 (same size, nothing else moves). The
 * kernels' only atomic instructions (i32.atomic.rmw.add on the work counter) are valid on an
 * unshared memory, and atomic.wait/notify are not used by the module.
 */
export function unsharedMemoryImport(bytes: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const out = bytes.slice();
  const leb = (p: number): [number, number] => {
    let value = 0,
      shift = 0,
      b: number;
    do {
      b = out[p++];
      value += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return [value, p];
  };
  for (let p = 8; p < out.length; ) {
    const id = out[p];
    const [size, start] = leb(p + 1);
    if (id === 2) {
      let [count, q] = leb(start);
      for (; count > 0; count--) {
        for (let name = 0; name < 2; name++) {
          const [len, after] = leb(q);
          q = after + len;
        }
        const kind = out[q++];
        if (kind === 2) {
          if (out[q] !== 3) break; // not shared with a maximum: not the module this was written for
          out[q] = 1;
          return out;
        }
        if (kind === 0)
          q = leb(q)[1]; // function: type index
        else break; // tables and globals: the kernels module imports neither
      }
    }
    p = start + size;
  }
  throw new BackendError(
    "wasm: the kernels module does not import a shared memory with a maximum (limits flag 0x03)",
    "rebuild it: npm run build:wasm",
  );
}

/** Instantiates the module on a shared memory (the module has no data or start section). */
export function instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory): KernelExports {
  return new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
}
