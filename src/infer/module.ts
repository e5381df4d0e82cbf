import { decodeBase64 } from "../core/base64.js";
import { INFER_WASM_BASE64 } from "./lut.wasm.generated.js";

/** A batch of NHWC images at a byte offset: [at, images, height, width, channels]. */
export type ImageBatch = [at: number, images: number, h: number, w: number, c: number];
/** Two sizes along height and width: a kernel, window, stride, padding or output side. */
export type Sides = readonly [h: number, w: number];
/**
 * The per-unit epilogue: y = x * scale + shift (float32 arrays at byte offsets), then ReLU where
 * relu is 1.
 */
export type Epilogue = [scale: number, shift: number, relu: number];
/** Pooling's epilogue: the same, applied only where affine is 1 (else the plain maxima, then ReLU where relu is 1). */
export type PoolEpilogue = [scale: number, shift: number, affine: number, relu: number];
/**
 * A convolution's output and layer: the output's sides, the weight bits, the units (filters),
 * the epilogue and where the NHWC outputs go.
 */
export type ConvOutput = [...output: Sides, bits: number, units: number, ...Epilogue, out: number];

/** The inference module's exports (wasm/infer/index.ts): pointers are byte offsets into the memory. */
export interface InferExports {
  denseLut(
    ...args: [
      x: number,
      kGroups: number,
      bits: number,
      units: number,
      ...Epilogue,
      out: number,
      blocks: number,
      table: number,
    ]
  ): void;
  denseLutTableBytes(): number;
  denseNibbleRow(
    ...args: [
      xb: number,
      lane: number,
      kGroups: number,
      nibbles: number,
      units: number,
      ...Epilogue,
      ob: number,
      planes: number,
    ]
  ): void;
  nibbleTranspose(bits: number, kGroups: number, units: number, out: number): void;
  nibbleBytes(kGroups: number, units: number): number;
  nibblePlaneBytes(kGroups: number): number;
  /** Kernel, stride and padding sides, then the output and layer (ConvOutput): see wasm/infer/conv.ts. */
  conv2dLut(
    ...args: [
      ...ImageBatch,
      ...kernel: Sides,
      ...stride: Sides,
      ...pad: Sides,
      ...ConvOutput,
      patch: number,
      block: number,
      table: number,
    ]
  ): void;
  convPatchBytes(K: number): number;
  /** conv2dLut's layer for stride 1 and channels in multiples of 8, tables built per input row: see wasm/infer/convTaps.ts. */
  conv2dTaps(
    ...args: [
      ...ImageBatch,
      ...kernel: Sides,
      ...pad: Sides,
      ...ConvOutput,
      cache: number,
      block: number,
      groups: number,
      zeros: number,
      pool: 0 | 1,
    ]
  ): void;
  convTapsCacheBytes(c: number, kh: number, kw: number, wo: number): number;
  convTapsIndexBytes(c: number, kh: number, kw: number, units: number): number;
  /** Window and stride sides, then the output's; scale and shift apply where affine is 1. */
  poolAffine(
    ...args: [...ImageBatch, ...window: Sides, ...stride: Sides, ...output: Sides, ...PoolEpilogue, dst: number]
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
