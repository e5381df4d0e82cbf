/**
 * The page of test/browser-backend-wasm.test.ts, bundled by Vite: the wasm backend created as a
 * web page creates it (`WasmBackend.create(options)`), the calls of ../wasm-cases.ts run on it,
 * every tensor returned as base64 of its float32 bytes (bit-exact, and far smaller than JSON
 * numbers). The page sets body[data-ready] once `window.wasmChecks` is there.
 */
import { WasmBackend, type WasmBackendOptions } from "../../../src/backends/wasm/index.js";
import { BackendError } from "../../../src/core/errors.js";
import { runCases } from "../wasm-cases.js";

export type PageResult =
  | {
      ok: true;
      crossOriginIsolated: boolean;
      description: string;
      threads: number;
      simd: string;
      results: Array<Record<string, string>>;
    }
  | { ok: false; crossOriginIsolated: boolean; error: { name: string; backendError: boolean; message: string } };

declare global {
  interface Window {
    wasmChecks(options: WasmBackendOptions): Promise<PageResult>;
  }
}

function base64(x: Float32Array): string {
  const bytes = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

window.wasmChecks = async (options) => {
  const isolated = globalThis.crossOriginIsolated === true;
  try {
    const be = await WasmBackend.create(options);
    try {
      const out = await runCases(be);
      const results = out.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, base64(v)])));
      return {
        ok: true,
        crossOriginIsolated: isolated,
        description: be.description,
        threads: be.threads,
        simd: be.simd,
        results,
      };
    } finally {
      await be.close();
    }
  } catch (e) {
    const err = e as Error;
    return {
      ok: false,
      crossOriginIsolated: isolated,
      error: { name: err.name, backendError: err instanceof BackendError, message: err.message },
    };
  }
};
document.body.dataset.ready = "1";
