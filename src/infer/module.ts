import { decodeBase64 } from "../core/base64.js";
import { INFER_WASM_BASE64 } from "./lut.wasm.generated.js";

/** The inference module's exports (wasm/infer/index.ts): pointers are byte offsets into the memory. */
export interface InferExports {
  denseLut(
    x: number,
    kGroups: number,
    bits: number,
    units: number,
    scale: number,
    shift: number,
    relu: number,
    out: number,
    blocks: number,
    table: number,
  ): void;
  denseLutTableBytes(): number;
  denseNibbleRow(
    xb: number,
    lane: number,
    kGroups: number,
    nibbles: number,
    units: number,
    scale: number,
    shift: number,
    relu: number,
    ob: number,
    planes: number,
  ): void;
  nibbleTranspose(bits: number, kGroups: number, units: number, out: number): void;
  nibbleBytes(kGroups: number, units: number): number;
  nibblePlaneBytes(kGroups: number): number;
  conv2dLut(
    x: number,
    images: number,
    h: number,
    w: number,
    c: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    ph: number,
    pw: number,
    ho: number,
    wo: number,
    bits: number,
    units: number,
    scale: number,
    shift: number,
    relu: number,
    out: number,
    patch: number,
    block: number,
    table: number,
  ): void;
  conv2dPlane(
    x: number,
    images: number,
    h: number,
    w: number,
    c: number,
    kh: number,
    kw: number,
    ph: number,
    pw: number,
    ho: number,
    wo: number,
    bits: number,
    units: number,
    scale: number,
    shift: number,
    relu: number,
    out: number,
    block: number,
    planes: number,
  ): void;
  convPlaneBytes(c: number, hp: number, wp: number, kw: number): number;
  poolAffine(
    src: number,
    images: number,
    h: number,
    w: number,
    c: number,
    winH: number,
    winW: number,
    sh: number,
    sw: number,
    ho: number,
    wo: number,
    scale: number,
    shift: number,
    affine: number,
    relu: number,
    dst: number,
  ): void;
  blockRows(src: number, rows: number, inputs: number, kPad: number, dst: number, blocks: number): void;
  prepPixels(
    src: number,
    rows: number,
    inputs: number,
    kPad: number,
    scale: number,
    mean: number,
    dst: number,
    total: number,
  ): void;
  heapBase(): number;
}

let bytes: Uint8Array<ArrayBuffer> | undefined;
let compiled: Promise<unknown> | undefined;

function moduleBytes(): Uint8Array<ArrayBuffer> {
  return (bytes ??= decodeBase64(INFER_WASM_BASE64));
}

/** True where WebAssembly with SIMD128 runs (the module validates). */
export function wasmSimdAvailable(): boolean {
  return typeof WebAssembly === "object" && WebAssembly.validate(moduleBytes());
}

/**
 * The compiled module (once per page or process). Its signatures name no WebAssembly types, so
 * that the shipped declarations type-check in projects without the DOM library (@types/node
 * declares no WebAssembly namespace).
 */
export function inferModule(): Promise<unknown> {
  compiled ??= WebAssembly.compile(moduleBytes());
  return compiled;
}

/** An instance of the module on `memory` (a WebAssembly.Memory). */
export async function instantiateInfer(memory: object): Promise<InferExports> {
  const instance = await WebAssembly.instantiate((await inferModule()) as WebAssembly.Module, {
    env: { memory: memory as WebAssembly.Memory },
  });
  return instance.exports as unknown as InferExports;
}

/** Size in bytes of the embedded module. */
export function inferModuleBytes(): number {
  return moduleBytes().length;
}
