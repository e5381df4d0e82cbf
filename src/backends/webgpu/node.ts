/// <reference types="@webgpu/types" />
import { BackendError } from "../../core/errors.js";

/**
 * The only Node-specific part of the WebGPU backend: Dawn for Node.js, the npm package
 * `webgpu` (an optional dependency). Imported lazily, and through a specifier in a variable so
 * that browser bundlers do not try to bundle its native module.
 */
interface DawnModule {
  create(flags: string[]): GPU;
}

const PACKAGE = "webgpu";

/**
 * Dawn instances by flags, one per process and kept for its lifetime: creating a second
 * instance while a closed one is being garbage-collected crashed Dawn (a mutex assertion, or a
 * hang, seen with lavapipe). A kept instance does not keep Node.js running once its devices
 * are destroyed (every backend destroys its device in close()).
 */
const instances = new Map<string, Promise<GPU>>();

/**
 * The Dawn GPU instance for `flags` (Dawn options such as "enable-dawn-features=..."); `pkg` is
 * the package to load (tests name a missing one).
 */
export function createNodeGpu(flags: readonly string[], pkg = PACKAGE): Promise<GPU> {
  const key = `${pkg}\n${flags.join("\n")}`;
  let gpu = instances.get(key);
  if (!gpu) {
    gpu = loadDawn(flags, pkg);
    instances.set(key, gpu);
    gpu.catch(() => instances.delete(key));
  }
  return gpu;
}

async function loadDawn(flags: readonly string[], pkg: string): Promise<GPU> {
  let mod: DawnModule;
  try {
    mod = (await import(/* @vite-ignore */ pkg)) as DawnModule;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ERR_MODULE_NOT_FOUND") {
      throw new BackendError(
        "webgpu backend: the npm package `webgpu` (Dawn for Node.js) is not installed",
        "npm install webgpu (it is an optional dependency: an install with --omit=optional leaves it out), or use --backend wasm",
      );
    }
    throw new BackendError(
      `webgpu backend: the npm package \`webgpu\` failed to load: ${(e as Error).message}`,
      "its native module may not support this platform; use --backend wasm",
    );
  }
  return mod.create([...flags]);
}
