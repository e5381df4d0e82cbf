import type { KernelTable } from "../../backend.js";
import type { ReferenceBackend } from "../index.js";
import * as kernels from "./all.js";

/** Every kernel of the reference backend (a missing one fails the type check). */
export const KERNELS: KernelTable<ReferenceBackend> = kernels;
