import { OptionError } from "../core/errors.js";
import type { Backend } from "./backend.js";
import { ReferenceBackend } from "./reference/index.js";

export type BackendName = "reference" | "wasm";
export const BACKEND_NAMES: readonly BackendName[] = ["reference", "wasm"];

export interface BackendOptions {
  /** Threads for the wasm backend (default: the number of cores). */
  threads?: number;
}

/** Creates a backend by name. Backends other than the reference are loaded lazily. */
export async function createBackend(name: BackendName, options: BackendOptions = {}): Promise<Backend> {
  switch (name) {
    case "reference":
      return new ReferenceBackend();
    case "wasm": {
      const { WasmBackend } = await import("./wasm/index.js");
      return WasmBackend.create({ threads: options.threads });
    }
    default: {
      const never: never = name;
      throw new OptionError(`unknown backend "${String(never)}"; expected one of ${BACKEND_NAMES.join(", ")}`);
    }
  }
}
