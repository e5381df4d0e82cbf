import { BackendError, OptionError } from "../core/errors.js";
import type { KernelArgs, KernelName } from "../kernels/contract.js";
import type { Backend } from "./backend.js";
import type { SimdChoice } from "./wasm/simd.js";
import { ReferenceBackend } from "./reference/index.js";

/** `auto`: webgpu on a hardware GPU adapter, else wasm (its description says which and why). */
export type BackendName = "reference" | "wasm" | "webgpu" | "auto";
export const BACKEND_NAMES: readonly BackendName[] = ["reference", "wasm", "webgpu", "auto"];

export interface BackendOptions {
  /** Threads for the wasm backend (default: the number of cores). */
  threads?: number;
  /** The wasm backend's SIMD: "auto" (default), "relaxed" or "baseline" (see wasm/simd.ts). */
  simd?: SimdChoice;
  /**
   * `auto` on Node.js: show what the GPU drivers print while the GPU is looked for (default: the
   * environment variable BINARYCONNECT_VERBOSE=1, which the CLI's --verbose sets; else silent).
   */
  verbose?: boolean;
}

/** Creates a backend by name. Backends other than the reference are loaded lazily. */
export async function createBackend(name: BackendName, options: BackendOptions = {}): Promise<Backend> {
  switch (name) {
    case "reference":
      return new ReferenceBackend();
    case "wasm": {
      const { WasmBackend } = await import("./wasm/index.js");
      return WasmBackend.create({ threads: options.threads, simd: options.simd });
    }
    case "webgpu": {
      const { WebGpuBackend } = await import("./webgpu/index.js");
      return WebGpuBackend.create();
    }
    case "auto":
      return createAuto(options);
    default: {
      const never: never = name;
      throw new OptionError(`unknown backend "${String(never)}"; expected one of ${BACKEND_NAMES.join(", ")}`);
    }
  }
}

/** webgpu when a hardware (not software: llvmpipe, SwiftShader) adapter is present, else wasm. */
async function createAuto(options: BackendOptions): Promise<Backend> {
  const quiet = await probeQuietly(options);
  const reason = quiet && !(quiet.available && !quiet.software) ? probeReason(quiet) : await tryWebGpu();
  if (typeof reason !== "string") return reason;
  const wasm = await createBackend("wasm", options);
  return describedAs(wasm, `${wasm.description} - auto: no WebGPU GPU (${reason})`);
}

/** The webgpu backend on a hardware adapter, or why there is none. */
async function tryWebGpu(): Promise<Backend | string> {
  try {
    const { requestAdapter } = await import("./webgpu/adapter.js");
    const choice = await requestAdapter({});
    if (choice.software) return `the only WebGPU adapter is a software one, ${choice.label}`;
    const { WebGpuBackend } = await import("./webgpu/index.js");
    return await WebGpuBackend.create({ adapter: choice, note: "auto: a GPU adapter is present" });
  } catch (e) {
    if (!(e instanceof BackendError)) throw e;
    return stripPrefix(e.message.split("\n")[0]);
  }
}

function probeReason(probe: NonNullable<Awaited<ReturnType<typeof probeQuietly>>>): string {
  return probe.available ? `the only WebGPU adapter is a software one, ${probe.label}` : stripPrefix(probe.reason);
}

const stripPrefix = (reason: string) => reason.replace(/^webgpu( backend)?: /, "");

/**
 * On Node.js, the GPU probe in a child process (silent unless verbose; see quietProbe.ts), so
 * that a machine without a GPU prints nothing from its drivers; elsewhere (browsers) undefined.
 */
async function probeQuietly(options: BackendOptions) {
  if (!(typeof process !== "undefined" && process.versions?.node)) return undefined;
  const verbose = options.verbose ?? process.env.BINARYCONNECT_VERBOSE === "1";
  const specifier = "./webgpu/quietProbe.js"; // in a variable: browser bundlers leave this Node-only module out
  const { probeWebGpuQuietly } = (await import(
    /* @vite-ignore */ specifier
  )) as typeof import("./webgpu/quietProbe.js");
  return probeWebGpuQuietly(verbose);
}

/** The same backend with another description. */
function describedAs(inner: Backend, description: string): Backend {
  return {
    name: inner.name,
    description,
    alloc: (shape) => inner.alloc(shape),
    upload: (t, data) => inner.upload(t, data),
    read: (t) => inner.read(t),
    dispose: (t) => inner.dispose(t),
    run: <K extends KernelName>(kernel: K, args: KernelArgs[K]) => inner.run(kernel, args),
    close: () => inner.close(),
  };
}
