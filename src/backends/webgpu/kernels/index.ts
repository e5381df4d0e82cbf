import type { KernelTable } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import * as kernels from "./all.js";

/**
 * Every kernel of the webgpu backend (a missing one fails the type check): kernels/<name>.ts is
 * the host side (parameters, variant, workgroup grid), wgsl/<name>.ts the shader.
 */
export const KERNELS: KernelTable<WebGpuBackend> = kernels;
