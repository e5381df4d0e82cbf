import { OptionError, ShapeError } from "../core/errors.js";
import { rowBytes, type BcnetModel } from "../format/bcnet.js";
import { decodeBcnet } from "../format/decode.js";
import { instantiateInfer, wasmSimdAvailable, type InferExports } from "./module.js";
import { forwardReference, preprocess } from "./reference.js";

/** "wasm": the SIMD lookup-table kernels; "js": the plain loops of reference.ts (a fallback). */
export type Engine = "wasm" | "js";

export interface ClassifierOptions {
  /** "auto" (default): wasm where WebAssembly SIMD runs, else js. */
  engine?: Engine | "auto";
}

/** Scores and classes of `count` examples. */
export interface Prediction {
  readonly count: number;
  /** Number of classes (the last layer's units). */
  readonly classes: number;
  /** The class of each example: the first maximum of its scores. */
  readonly labels: Int32Array;
  /** [count, classes] row-major: the network's outputs (batch-normalized logits). */
  readonly scores: Float32Array;
}

/** Rows per pass through the layers (bounds the working memory; results do not depend on it). */
const CHUNK_ROWS = 256;
/** Rows per block of the blocked activation layout (wasm/infer/denseLut.ts). */
const ROWS_PER_BLOCK = 16;
/**
 * Leftover rows (past the full blocks) up to this many go through the one-row kernel; more fill
 * a padded block (on the MNIST MLP one row takes ~0.2 ms, a block of 16 ~0.75 ms).
 */
const MAX_SINGLE_ROWS = 3;
const PAGE = 65536;
const align16 = (n: number) => Math.ceil(n / 16) * 16;
const pad8 = (n: number) => Math.ceil(n / 8) * 8;

/**
 * A .bcnet network ready to classify: multiply-free binary layers (the lookup-table kernel of
 * wasm/infer/denseLut.ts, WebAssembly SIMD) in Node.js and browsers. Create with
 * `BinaryClassifier.load(bytes)`. Not thread-safe: one call at a time per instance.
 */
export class BinaryClassifier {
  readonly inputs: number;
  readonly classes: number;

  private constructor(readonly model: BcnetModel, readonly engine: Engine, private readonly wasm: WasmState | null) {
    this.inputs = model.inputs;
    this.classes = model.layers[model.layers.length - 1].units;
  }

  /** Decodes (when given bytes) and prepares a model. Throws ModelFormatError for a bad file. */
  static async load(source: Uint8Array | ArrayBuffer | BcnetModel, options: ClassifierOptions = {}): Promise<BinaryClassifier> {
    for (const key of Object.keys(options)) {
      if (key !== "engine") throw new OptionError(`BinaryClassifier.load: unknown option "${key}"`, "the only option is engine");
    }
    const wanted = options.engine ?? "auto";
    if (!["auto", "wasm", "js"].includes(wanted)) throw new OptionError(`BinaryClassifier.load: engine "${wanted}"; expected auto, wasm or js`);
    const model = source instanceof Uint8Array ? decodeBcnet(source) : source instanceof ArrayBuffer ? decodeBcnet(new Uint8Array(source)) : source;
    const engine: Engine = wanted === "auto" ? (wasmSimdAvailable() ? "wasm" : "js") : wanted;
    return new BinaryClassifier(model, engine, engine === "wasm" ? await WasmState.create(model) : null);
  }

  /** Classifies raw inputs (MNIST: 784 pixels 0..255 per image, row-major 28 x 28), `count` rows. */
  predict(raw: ArrayLike<number>, count = this.countOf(raw)): Prediction {
    this.checkCount(raw, count);
    return this.wasm ? this.run(raw, count, true) : this.finish(forwardReference(this.model, preprocess(this.model, raw, count), count), count);
  }

  /** Classifies rows that are already preprocessed (x * inputScale - mean). */
  predictFeatures(features: ArrayLike<number>, count = this.countOf(features)): Prediction {
    this.checkCount(features, count);
    return this.wasm ? this.run(features, count, false) : this.finish(forwardReference(this.model, features, count), count);
  }

  private run(x: ArrayLike<number>, count: number, raw: boolean): Prediction {
    const scores = new Float32Array(count * this.classes);
    for (let start = 0; start < count; start += CHUNK_ROWS) {
      const rows = Math.min(CHUNK_ROWS, count - start);
      this.wasm!.forward(x, start, rows, raw, scores);
    }
    return this.finish(scores, count);
  }

  private finish(scores: Float32Array, count: number): Prediction {
    const K = this.classes;
    const labels = new Int32Array(count);
    for (let m = 0; m < count; m++) {
      let best = 0;
      for (let k = 1; k < K; k++) if (scores[m * K + k] > scores[m * K + best]) best = k;
      labels[m] = best;
    }
    return { count, classes: K, labels, scores };
  }

  private countOf(x: ArrayLike<number>): number {
    return Math.floor(x.length / this.inputs);
  }

  private checkCount(x: ArrayLike<number>, count: number): void {
    if (!Number.isInteger(count) || count < 0 || x.length !== count * this.inputs) {
      throw new ShapeError(`expected ${count} x ${this.inputs} = ${count * this.inputs} input values, found ${x.length}`,
        `each example is ${this.inputs} values (MNIST: 28 x 28 pixels, row-major)`);
    }
  }
}

/** The model's weights in a WebAssembly memory, plus activation buffers and table scratch. */
class WasmState {
  private f32: Float32Array;

  private constructor(
    private readonly model: BcnetModel,
    private readonly memory: WebAssembly.Memory,
    private readonly kernels: InferExports,
    private readonly layers: { bits: number; scale: number; shift: number; kGroups: number }[],
    private readonly buffers: [number, number],
    private readonly table: number,
    /** CHUNK_ROWS x inputs bytes where raw 8-bit inputs are copied for prepPixels; the mean (f32) follows. */
    private readonly staging: { bytes: number; mean: number },
  ) {
    this.f32 = new Float32Array(memory.buffer);
  }

  static async create(model: BcnetModel): Promise<WasmState> {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const kernels = await instantiateInfer(memory);
    let p = align16(kernels.heapBase());
    const take = (bytes: number) => {
      const at = p;
      p = align16(p + bytes);
      return at;
    };
    const layers = model.layers.map((l) => ({
      bits: take(l.bits.length), scale: take(4 * l.units), shift: take(4 * l.units), kGroups: rowBytes(l.inputs),
    }));
    const widest = Math.max(pad8(model.inputs), ...model.layers.map((l) => pad8(l.units)));
    const bufferBytes = CHUNK_ROWS * widest * 4;
    const buffers: [number, number] = [take(bufferBytes), take(bufferBytes)];
    const table = take(kernels.denseLutTableBytes());
    const staging = { bytes: take(CHUNK_ROWS * model.inputs), mean: take(4 * model.inputs) };
    memory.grow(Math.max(0, Math.ceil(p / PAGE) - memory.buffer.byteLength / PAGE));
    const bytes = new Uint8Array(memory.buffer);
    model.layers.forEach((l, i) => {
      bytes.set(l.bits, layers[i].bits);
      new Float32Array(memory.buffer, layers[i].scale, l.units).set(l.scale);
      new Float32Array(memory.buffer, layers[i].shift, l.units).set(l.shift);
    });
    new Float32Array(memory.buffer, staging.mean, model.inputs).set(model.preprocess.mean);
    return new WasmState(model, memory, kernels, layers, buffers, table, staging);
  }

  /** Rows [start, start + rows) of x (rows <= CHUNK_ROWS) through every layer; scores into `out`. */
  forward(x: ArrayLike<number>, start: number, rows: number, raw: boolean, out: Float32Array): void {
    if (this.f32.buffer !== this.memory.buffer) this.f32 = new Float32Array(this.memory.buffer);
    const full = Math.floor(rows / ROWS_PER_BLOCK), left = rows - full * ROWS_PER_BLOCK;
    const blocks = left > MAX_SINGLE_ROWS ? full + 1 : full; // blocks through the 16-row kernel
    const singles = left > MAX_SINGLE_ROWS ? 0 : left; // rows of block `full` through the one-row kernel
    this.writeInputs(x, start, rows, Math.ceil(rows / ROWS_PER_BLOCK), raw);
    let src = 0;
    this.model.layers.forEach((l, i) => {
      const { kGroups, bits, scale, shift } = this.layers[i];
      const relu = l.activation === "relu" ? 1 : 0;
      const xIn = this.buffers[src], xOut = this.buffers[1 - src];
      if (blocks > 0) this.kernels.denseLut(xIn, kGroups, bits, l.units, scale, shift, relu, xOut, blocks, this.table);
      for (let lane = 0; lane < singles; lane++) {
        const xb = xIn + full * pad8(l.inputs) * ROWS_PER_BLOCK * 4, ob = xOut + full * pad8(l.units) * ROWS_PER_BLOCK * 4;
        this.kernels.denseLutRow(xb, lane, kGroups, bits, l.units, scale, shift, relu, ob, this.table);
      }
      src = 1 - src;
    });
    this.readScores(this.buffers[src], start, rows, out);
  }

  /** Writes rows into the blocked layout (16 rows interleaved per feature), zero-padding features and rows. */
  private writeInputs(x: ArrayLike<number>, start: number, rows: number, blocks: number, raw: boolean): void {
    const K = this.model.inputs, kPad = pad8(K), f = this.f32, B = ROWS_PER_BLOCK;
    if (raw && (x instanceof Uint8Array || x instanceof Uint8ClampedArray)) { // 8-bit pixels: preprocessed in wasm
      new Uint8Array(this.memory.buffer).set(x.subarray(start * K, (start + rows) * K), this.staging.bytes);
      this.kernels.prepPixels(this.staging.bytes, rows, K, kPad, this.model.preprocess.inputScale, this.staging.mean, this.buffers[0], blocks);
      return;
    }
    const { inputScale, mean } = this.model.preprocess;
    const base = this.buffers[0] >> 2;
    for (let r = 0; r < blocks * ROWS_PER_BLOCK; r++) {
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

  private readScores(at: number, start: number, rows: number, out: Float32Array): void {
    const C = this.model.layers[this.model.layers.length - 1].units, cPad = pad8(C), f = this.f32, B = ROWS_PER_BLOCK;
    const base = at >> 2;
    for (let r = 0; r < rows; r++) {
      const p = base + Math.floor(r / B) * cPad * B + (r % B);
      for (let c = 0; c < C; c++) out[(start + r) * C + c] = f[p + B * c];
    }
  }
}
