/**
 * The kernels moved to kernels/<name>.ts (one file per kernel of the contract, the table in
 * kernels/index.ts). This module only keeps an older import path working
 * (bench/step-suite.ts imports usesLookupTables from here); import from kernels/ instead.
 */
export { KERNELS } from "./kernels/index.js";
export { usesLookupTables } from "./kernels/binaryMatmul.js";
