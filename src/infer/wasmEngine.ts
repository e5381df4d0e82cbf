import { ShapeError } from "../core/errors.js";
import {
  classesOf,
  fanIn,
  fanOut,
  imageOutput,
  type BcnetConv,
  type BcnetDense,
  type BcnetModel,
  rowBytes,
} from "../format/bcnet.js";
import { scaleMeanOf, type ScaleMean } from "../format/preprocessing.js";
import { convOutputShape, imageSize, type ImageShape } from "../format/shapes.js";
import {
  instantiateInfer,
  type ConvOutput,
  type Epilogue,
  type ImageBatch,
  type InferExports,
  type PoolEpilogue,
  type Sides,
} from "./module.js";

/** Examples per pass through the layers of an MLP (bounds the working memory; results do not depend on it). */
export const CHUNK_ROWS = 256;
/**
 * Floats one activation buffer may take for a network on images: the chunk of images per pass
 * is the largest (<= CHUNK_ROWS) whose every layer fits (16 MiB per buffer, two buffers).
 */
const IMAGE_BUFFER_FLOATS = 1 << 22;
/** Rows per block of the blocked activation layout (wasm/infer/denseLut.ts). */
const ROWS_PER_BLOCK = 16;
/**
 * Leftover rows (past the full blocks) up to this many go through the one-row kernel; more fill
 * a padded block (on the MNIST MLP one row took ~0.2 ms with scalar tables, now ~0.13 ms, a block of 16 ~0.75 ms).
 */
const MAX_SINGLE_ROWS = 3;
const PAGE = 65536;
/** Filters below which a convolution takes the 4-input tables (DENSE_LUT4_UNITS, wasm/infer/denseLut4.ts). */
const LUT4_FILTERS = 192;

const align16 = (n: number) => Math.ceil(n / 16) * 16;
const pad8 = (n: number) => Math.ceil(n / 8) * 8;
/** `rows` images of shape `s` at byte offset `at`, as the kernels take them. */
const images = (at: number, rows: number, s: ImageShape): ImageBatch => [at, rows, s.height, s.width, s.channels];
/** An image's height and width. */
const sides = (s: ImageShape): Sides => [s.height, s.width];
/** Max pooling alone: no scale, shift or ReLU. */
const NO_AFFINE: PoolEpilogue = [0, 0, 0, 0];
const blockedFloats = (rows: number, features: number) =>
  Math.ceil(rows / ROWS_PER_BLOCK) * ROWS_PER_BLOCK * pad8(features);

/**
 * Whether conv2dTaps (tables built once per input row, no unfolded patches) runs the layer:
 * stride 1, the 4-input tables, kernels at most 5 wide, and blocks of 16 output positions that
 * lie in one row or are whole rows of 4 or 8 (wo a multiple of 16, or 4 or 8 with ho wo a
 * multiple of 16). Otherwise conv2dLut.
 */
export function convTakesTaps(l: BcnetConv): boolean {
  const { height: ho, width: wo } = convOutputShape(l.input, l.filters, l.kernel, l.stride, l.pad);
  const blocksFit = wo % 16 === 0 || (16 % wo === 0 && (ho * wo) % 16 === 0);
  return (
    l.stride[0] === 1 && l.stride[1] === 1 && l.filters < LUT4_FILTERS && l.kernel[1] <= 5 && wo % 4 === 0 && blocksFit
  );
}

/**
 * Whether conv2dTaps fuses the layer's max pooling (its pool flag): a 2 x 2 window of stride 2 on
 * an even output whose blocks are one row of 16 (two blocks a step) or two rows of 8.
 */
export function tapsPool(l: BcnetConv): boolean {
  const { height: ho, width: wo } = convOutputShape(l.input, l.filters, l.kernel, l.stride, l.pad);
  const p = l.pool;
  if (!p || !convTakesTaps(l)) return false;
  const twoByTwo = p.window[0] === 2 && p.window[1] === 2 && p.stride[0] === 2 && p.stride[1] === 2;
  return twoByTwo && ho % 2 === 0 && (wo % 16 === 0 || wo === 8);
}

/**
 * A convolution's sign bits as conv2dTaps reads them: each tap's channels padded to a multiple
 * of 4 (C4), the padding's bits 0, each filter's row ceil(kh kw C4 / 8) bytes; the bits
 * themselves where C is a multiple of 4 (the same layout).
 */
export function tapBits(l: BcnetConv): Uint8Array {
  const c = l.input.channels,
    c4 = Math.ceil(c / 4) * 4;
  if (c === c4) return l.bits;
  const taps = l.kernel[0] * l.kernel[1],
    from = rowBytes(taps * c),
    to = rowBytes(taps * c4);
  const out = new Uint8Array(l.filters * to);
  for (let f = 0; f < l.filters; f++)
    for (let t = 0; t < taps; t++)
      for (let ch = 0; ch < c; ch++) {
        const k = t * c + ch,
          k4 = t * c4 + ch;
        if ((l.bits[f * from + (k >> 3)] >> (k & 7)) & 1) out[f * to + (k4 >> 3)] |= 1 << (k4 & 7);
      }
  return out;
}

/** Where a binary layer's arrays are in the memory (byte offsets). */
interface Placed {
  bits: number;
  scale: number;
  shift: number;
  /** Dense layers: the weights as nibble rows (denseNibbleRow.ts), for single rows. */
  nibbles: number;
}

/**
 * A .bcnet model in a WebAssembly memory, run by the inference module (wasm/infer/): weights,
 * two activation buffers used in turn, table, patch and block scratch. Activations between
 * dense layers are in the blocked layout of denseLut.ts; between convolutions and pooling they
 * are plain NHWC images. Per layer:
 * - dense: denseLut on blocks of 16 rows (denseNibbleRow for up to 3 leftover rows), after
 *   blockRows when the input is an image;
 * - conv: conv2dTaps where convTakesTaps (the 4-input tables built once per input row), else
 *   conv2dLut (blocks of 16 output positions unfolded into their patches, then the
 *   lookup-table kernel); its epilogue applies scale, shift and ReLU, or, when the layer pools,
 *   conv2dTaps pools in its pass (tapsPool) or the kernel gives the plain sums and poolAffine
 *   then pools and applies them;
 * - maxpool: poolAffine without scale and shift.
 */
export class WasmEngine {
  private f32: Float32Array;

  private constructor(
    private readonly model: BcnetModel,
    private readonly memory: WebAssembly.Memory,
    private readonly kernels: InferExports,
    /** Per layer, its arrays (null for max pooling). */
    private readonly placed: (Placed | null)[],
    private readonly buffers: [number, number],
    private readonly scratch: {
      table: number;
      planes: number;
      patch: number;
      cache: number;
      taps: number;
      block: number;
      ones: number;
      zeros: number;
    },
    /** Where raw 8-bit inputs are copied for prepPixels (chunk x inputs bytes); the mean (f32) follows. */
    private readonly staging: { bytes: number; mean: number },
    /** Examples per forward call (at most). */
    readonly chunk: number,
    /**
     * The model's preprocessing as x * inputScale - mean (scaleMeanOf), which forward applies
     * to raw rows itself; null for other steps (the caller applies them: forward takes features).
     */
    readonly folded: ScaleMean | null,
  ) {
    this.f32 = new Float32Array(memory.buffer);
  }

  static async create(model: BcnetModel): Promise<WasmEngine> {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const kernels = await instantiateInfer(memory);
    let p = align16(kernels.heapBase());
    const take = (bytes: number) => {
      const at = p;
      p = align16(p + bytes);
      return at;
    };
    const images = model.layers.some((l) => l.kind !== "dense");
    const chunk = images
      ? Math.max(
          1,
          Math.min(
            CHUNK_ROWS,
            Math.floor(IMAGE_BUFFER_FLOATS / (bufferFloats(model, ROWS_PER_BLOCK) / ROWS_PER_BLOCK)),
          ),
        )
      : CHUNK_ROWS;
    const convs = model.layers.filter((l): l is BcnetConv => l.kind === "conv");
    const placed = model.layers.map((l) =>
      l.kind === "maxpool"
        ? null
        : {
            bits: take(l.kind === "conv" && convTakesTaps(l) ? tapBits(l).length : l.bits.length),
            scale: take(4 * fanOut(l)),
            shift: take(4 * fanOut(l)),
            nibbles: l.kind === "dense" ? take(kernels.nibbleBytes(Math.ceil(l.inputs / 8), l.units)) : 0,
          },
    );
    const dense = model.layers.filter((l): l is BcnetDense => l.kind === "dense");
    const bufferBytes = 4 * bufferFloats(model, chunk);
    const buffers: [number, number] = [take(bufferBytes), take(bufferBytes)];
    const filters = Math.max(0, ...convs.map((l) => l.filters));
    const taps = convs.filter(convTakesTaps);
    const cacheBytes = (l: BcnetConv) => {
      const { width } = convOutputShape(l.input, l.filters, l.kernel, l.stride, l.pad);
      return kernels.convTapsCacheBytes(l.input.channels, l.kernel[0], l.kernel[1], width);
    };
    const scratch = {
      table: take(kernels.denseLutTableBytes()),
      planes: take(Math.max(0, ...dense.map((l) => kernels.nibblePlaneBytes(Math.ceil(l.inputs / 8))))),
      patch: take(Math.max(0, ...convs.map((l) => kernels.convPatchBytes(fanIn(l))))),
      cache: take(Math.max(0, ...taps.map(cacheBytes))),
      taps: take(
        Math.max(
          0,
          ...taps.map((l) => kernels.convTapsIndexBytes(l.input.channels, l.kernel[0], l.kernel[1], l.filters)),
        ),
      ),
      // conv2dTaps's fused pooling takes two blocks
      block: take((taps.some(tapsPool) ? 2 : 1) * pad8(filters) * ROWS_PER_BLOCK * 4),
      ones: take(4 * filters),
      // the pooling layers' shift of 0, and conv2dTaps's padding inputs
      zeros: take(4 * Math.max(filters, ...taps.map((l) => Math.ceil(l.input.channels / 4) * 4))),
    };
    const folded = scaleMeanOf(model.preprocessing, model.inputs);
    const staging = {
      bytes: take(images || !folded ? 0 : chunk * model.inputs),
      mean: take(folded ? 4 * model.inputs : 0),
    };
    memory.grow(Math.max(0, Math.ceil(p / PAGE) - memory.buffer.byteLength / PAGE));
    const bytes = new Uint8Array(memory.buffer);
    model.layers.forEach((l, i) => {
      const at = placed[i];
      if (!at || l.kind === "maxpool") return;
      bytes.set(l.kind === "conv" && convTakesTaps(l) ? tapBits(l) : l.bits, at.bits);
      new Float32Array(memory.buffer, at.scale, l.scale.length).set(l.scale);
      new Float32Array(memory.buffer, at.shift, l.shift.length).set(l.shift);
      if (l.kind === "dense") kernels.nibbleTranspose(at.bits, Math.ceil(l.inputs / 8), l.units, at.nibbles);
    });
    new Float32Array(memory.buffer, scratch.ones, filters).fill(1);
    if (folded) new Float32Array(memory.buffer, staging.mean, model.inputs).set(folded.mean);
    return new WasmEngine(model, memory, kernels, placed, buffers, scratch, staging, chunk, folded);
  }

  /**
   * Rows [start, start + rows) of x (rows <= chunk) through every layer; scores into `out`
   * [*, classes] at the same rows. `raw`: x holds raw inputs, preprocessed here as
   * x * inputScale - mean (only when `folded` is not null); else x holds features.
   */
  forward(x: ArrayLike<number>, start: number, rows: number, raw: boolean, out: Float32Array): void {
    if (raw && !this.folded)
      throw new ShapeError(
        "WasmEngine.forward: this model's preprocessing is not x * inputScale - mean; preprocess the rows first (raw = false)",
      );
    if (this.f32.buffer !== this.memory.buffer) this.f32 = new Float32Array(this.memory.buffer);
    const k = this.kernels,
      blocks = Math.ceil(rows / ROWS_PER_BLOCK);
    let at = 0; // the buffer holding the current activations
    let blocked = this.model.layers[0].kind === "dense";
    if (blocked) this.writeBlocked(x, start, rows, blocks, raw);
    else this.writePlain(x, start, rows, raw);
    this.model.layers.forEach((l, i) => {
      const src = this.buffers[at],
        dst = this.buffers[1 - at];
      if (l.kind === "conv") {
        if (this.conv(l, this.placed[i]!, rows, src, dst)) at = 1 - at;
      } else if (l.kind === "maxpool") {
        k.poolAffine(
          ...images(src, rows, l.input),
          ...l.window,
          ...l.stride,
          ...sides(imageOutput(l)),
          ...NO_AFFINE,
          dst,
        );
        at = 1 - at;
      } else {
        if (!blocked) {
          k.blockRows(src, rows, l.inputs, pad8(l.inputs), dst, blocks);
          at = 1 - at;
          blocked = true;
        }
        this.dense(l, this.placed[i]!, rows, this.buffers[at], this.buffers[1 - at]);
        at = 1 - at;
      }
    });
    this.readScores(this.buffers[at], start, rows, out);
  }

  /** A convolution from NHWC in src: its output in dst (returns true) or, when it pools, back in src (false). */
  private conv(l: BcnetConv, w: Placed, rows: number, src: number, dst: number): boolean {
    const c = convOutputShape(l.input, l.filters, l.kernel, l.stride, l.pad);
    const relu = l.activation === "relu" ? 1 : 0,
      pool = l.pool,
      s = this.scratch,
      input = images(src, rows, l.input);
    const fused = tapsPool(l);
    // Pooling layers not fused take the plain sums here: poolAffine applies scale, shift and ReLU after the maximum.
    const epilogue: Epilogue = pool && !fused ? [s.ones, s.zeros, 0] : [w.scale, w.shift, relu];
    const output: ConvOutput = [...sides(c), w.bits, l.filters, ...epilogue, dst];
    if (convTakesTaps(l))
      this.kernels.conv2dTaps(
        ...input,
        ...l.kernel,
        ...l.pad,
        ...output,
        s.cache,
        s.block,
        s.taps,
        s.zeros,
        fused ? 1 : 0,
      );
    else this.kernels.conv2dLut(...input, ...l.kernel, ...l.stride, ...l.pad, ...output, s.patch, s.block, s.table);
    if (!pool || fused) return true;
    this.kernels.poolAffine(
      ...images(dst, rows, c),
      ...pool.window,
      ...pool.stride,
      ...sides(imageOutput(l)),
      w.scale,
      w.shift,
      1,
      relu,
      src,
    );
    return false;
  }

  /** A dense layer on blocked rows: full blocks of 16, then leftovers through the one-row kernel (denseNibbleRow) or a padded block. */
  private dense(l: BcnetDense, w: Placed, rows: number, xIn: number, xOut: number): void {
    const full = Math.floor(rows / ROWS_PER_BLOCK),
      left = rows - full * ROWS_PER_BLOCK;
    const blocks = left > MAX_SINGLE_ROWS ? full + 1 : full; // blocks through the 16-row kernel
    const singles = left > MAX_SINGLE_ROWS ? 0 : left; // rows of block `full` through the one-row kernel
    const kGroups = Math.ceil(l.inputs / 8),
      epilogue: Epilogue = [w.scale, w.shift, l.activation === "relu" ? 1 : 0];
    if (blocks > 0) this.kernels.denseLut(xIn, kGroups, w.bits, l.units, ...epilogue, xOut, blocks, this.scratch.table);
    for (let lane = 0; lane < singles; lane++) {
      const xb = xIn + full * pad8(l.inputs) * ROWS_PER_BLOCK * 4,
        ob = xOut + full * pad8(l.units) * ROWS_PER_BLOCK * 4;
      this.kernels.denseNibbleRow(xb, lane, kGroups, w.nibbles, l.units, ...epilogue, ob, this.scratch.planes);
    }
  }

  /** Rows into the blocked layout (16 rows interleaved per feature), zero-padding features and rows. */
  private writeBlocked(x: ArrayLike<number>, start: number, rows: number, blocks: number, raw: boolean): void {
    const K = this.model.inputs,
      kPad = pad8(K),
      f = this.f32,
      B = ROWS_PER_BLOCK;
    if (raw && (x instanceof Uint8Array || x instanceof Uint8ClampedArray)) {
      // 8-bit pixels: preprocessed in wasm
      new Uint8Array(this.memory.buffer).set(x.subarray(start * K, (start + rows) * K), this.staging.bytes);
      // rows that all go through the one-row kernel (a batch of 1 to 3) need no zero rows after them
      const total = rows <= MAX_SINGLE_ROWS ? rows : blocks * ROWS_PER_BLOCK;
      this.kernels.prepPixels(
        this.staging.bytes,
        rows,
        K,
        kPad,
        this.folded!.inputScale,
        this.staging.mean,
        this.buffers[0],
        total,
      );
      return;
    }
    const { inputScale, mean } = this.folded ?? { inputScale: 1, mean: new Float32Array(0) };
    const base = this.buffers[0] >> 2;
    for (let r = 0; r < blocks * B; r++) {
      let p = base + Math.floor(r / B) * kPad * B + (r % B);
      if (r >= rows) {
        for (let k = 0; k < kPad; k++, p += B) f[p] = 0;
        continue;
      }
      const row = (start + r) * K;
      if (raw) for (let k = 0; k < K; k++, p += B) f[p] = x[row + k] * inputScale - mean[k];
      else for (let k = 0; k < K; k++, p += B) f[p] = x[row + k];
      for (let k = K; k < kPad; k++, p += B) f[p] = 0;
    }
  }

  /** Rows as plain NHWC images: x' = x * inputScale - mean (in float64, rounded once, as reference.ts). */
  private writePlain(x: ArrayLike<number>, start: number, rows: number, raw: boolean): void {
    const K = this.model.inputs,
      f = this.f32,
      base = this.buffers[0] >> 2;
    const { inputScale, mean } = this.folded ?? { inputScale: 1, mean: new Float32Array(0) };
    for (let r = 0; r < rows; r++) {
      const row = (start + r) * K,
        p = base + r * K;
      if (raw) for (let k = 0; k < K; k++) f[p + k] = x[row + k] * inputScale - mean[k];
      else for (let k = 0; k < K; k++) f[p + k] = x[row + k];
    }
  }

  private readScores(at: number, start: number, rows: number, out: Float32Array): void {
    const C = classesOf(this.model),
      cPad = pad8(C),
      f = this.f32,
      B = ROWS_PER_BLOCK;
    const base = at >> 2;
    for (let r = 0; r < rows; r++) {
      const p = base + Math.floor(r / B) * cPad * B + (r % B);
      for (let c = 0; c < C; c++) out[(start + r) * C + c] = f[p + B * c];
    }
  }
}

/** Floats the larger activation buffer needs for `n` examples: every layer's input and output in its layout. */
function bufferFloats(model: BcnetModel, n: number): number {
  let need = model.layers[0].kind === "dense" ? blockedFloats(n, model.inputs) : n * model.inputs;
  for (const l of model.layers) {
    if (l.kind === "dense") need = Math.max(need, blockedFloats(n, l.inputs), blockedFloats(n, l.units));
    else if (l.kind === "maxpool") need = Math.max(need, n * imageSize(imageOutput(l)));
    else {
      const c = convOutputShape(l.input, l.filters, l.kernel, l.stride, l.pad);
      need = Math.max(need, n * imageSize(c));
    }
  }
  return need;
}
