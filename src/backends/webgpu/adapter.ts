/// <reference types="@webgpu/types" />
import { BackendError } from "../../core/errors.js";

/** A GPU adapter with the GPU instance it came from (kept alive together). */
export interface AdapterChoice {
  gpu: GPU;
  adapter: GPUAdapter;
  /** "nvidia-h100-80gb-hbm3 (nvidia, vulkan...)" - what the backend's description shows. */
  label: string;
  /** A CPU implementation (llvmpipe/lavapipe, SwiftShader, WARP): correct but slow. */
  software: boolean;
}

export interface AdapterOptions {
  /** A GPU object to use (a browser's navigator.gpu, or one made by the caller); default: found. */
  gpu?: GPU;
  /** Dawn options for Node.js ("enable-dawn-features=...", "backend=vulkan"); ignored with `gpu`. */
  dawnFlags?: readonly string[];
}

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|software|microsoft basic render|\bwarp\b/i;

/** Whether an adapter is a CPU implementation rather than a GPU. */
export function isSoftwareAdapter(adapter: GPUAdapter): boolean {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const fallback =
    info.isFallbackAdapter === true || (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  return (
    fallback || [info.vendor, info.architecture, info.device, info.description].some((s) => SOFTWARE.test(s ?? ""))
  );
}

export function adapterLabel(adapter: GPUAdapter): string {
  const { vendor, architecture, device, description } = adapter.info;
  const name = description || device || "unnamed adapter";
  const extra = [vendor, architecture].filter(Boolean).join(", ");
  return extra ? `${name} (${extra})` : name;
}

/** The page's navigator.gpu (browsers, Deno), or Dawn through the npm package `webgpu` (Node.js). */
export async function findGpu(options: AdapterOptions): Promise<GPU> {
  if (options.gpu) return options.gpu;
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (typeof process !== "undefined" && process.versions?.node) {
    const { createNodeGpu } = await import("./node.js");
    return createNodeGpu(options.dawnFlags ?? []);
  }
  throw new BackendError(
    "webgpu backend: this JavaScript environment has no WebGPU (navigator.gpu is missing)",
    "use a browser with WebGPU enabled (Chrome/Edge 113+, or --enable-unsafe-webgpu), or the wasm backend",
  );
}

/** The high-performance adapter, or a BackendError that says why there is none. */
export async function requestAdapter(options: AdapterOptions): Promise<AdapterChoice> {
  const gpu = await findGpu(options);
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  } catch (e) {
    throw new BackendError(`webgpu backend: requestAdapter failed: ${(e as Error).message}`, noAdapterHint());
  }
  if (!adapter)
    throw new BackendError(
      "webgpu backend: no WebGPU adapter was found (requestAdapter returned null)",
      noAdapterHint(),
    );
  return { gpu, adapter, label: adapterLabel(adapter), software: isSoftwareAdapter(adapter) };
}

/** Why there is no adapter and what to do, for the environment the code runs in. */
function noAdapterHint(): string {
  const inNode = typeof process !== "undefined" && Boolean(process.versions?.node);
  return inNode
    ? "Node.js needs a Vulkan driver: the GPU's with the Vulkan loader (Debian: libvulkan1), or for tests Mesa's " +
        'software lavapipe (Debian: mesa-vulkan-drivers, Mesa 25 or newer). Otherwise use the wasm backend (--backend wasm; backend: "wasm" in code)'
    : "the browser has WebGPU but no GPU to give it (WebGPU off for this GPU or driver, or a headless browser without one); " +
        'use the "wasm" backend (or "auto", which falls back to it)';
}

/** Whether a WebGPU adapter can be had here (for tests and `auto`): its label, or why not. */
export async function probeWebGpu(
  options: AdapterOptions = {},
): Promise<{ available: true; label: string; software: boolean } | { available: false; reason: string }> {
  try {
    const { label, software } = await requestAdapter(options);
    return { available: true, label, software };
  } catch (e) {
    if (e instanceof BackendError) return { available: false, reason: e.message.split("\n")[0] };
    throw e;
  }
}
