import { ModelFormatError, type ModelFormatProblem } from "../core/errors.js";
import {
  BCNET_MAGIC,
  BCNET_VERSION,
  BCNET_VERSIONS,
  HEADER_BYTES,
  LAYER_ENTRY_BYTES,
  LIMITS,
  fanIn,
  fanOut,
  layerSizes,
  layoutOf,
  rowBytes,
  type BcnetLayer,
  type BcnetModel,
  type BcnetVersion,
  type LayerHead,
  type ModelInfo,
} from "./bcnet.js";
import { chainLayers, type LayerEntry } from "./chain.js";
import { checkCompute, computeCost } from "./cost.js";
import { crc32 } from "./crc32.js";
import { readEntry } from "./layerTable.js";
import {
  checkPreprocessing,
  PREPROCESS_ENTRY_BYTES,
  preprocessingShape,
  readStepEntry,
  stepArrayLengths,
  type PreprocessStep,
  type Preprocessing,
  type StepHead,
} from "./preprocessing.js";
import { imageSize, shapeText, type ImageShape } from "./shapes.js";

const HINT_REEXPORT =
  "export the model again (model.exportBcnet() in the library; the CLI: binaryconnect export RUN_DIR --out model.bcnet)";
const HINT_LARGE =
  "a model from an untrusted source should not load; if you trust this file, load it with { allowLargeCompute: true } (the CLI's predict and summary: --allow-large-models)";

/** Options of decodeBcnet. */
export interface DecodeOptions {
  /**
   * Load a model whose work per example passes the format's compute bounds (LIMITS.freeWork,
   * workPerWeight, work; docs/FORMAT.md "Compute bounds"). Default false: such a file is refused,
   * since a few kilobytes can otherwise ask for minutes of work per example.
   */
  readonly allowLargeCompute?: boolean;
}

/**
 * Reads .bcnet bytes of any version in BCNET_VERSIONS (docs/FORMAT.md). Checks, in this order: the magic, the version, the
 * length (truncation), the CRC-32, then that every header field, layer and preprocessing
 * entry is within the format's limits and that the sizes they imply add up to the file's
 * length, then the preprocessing's parameters (checkPreprocessing). A version 1 or 2 file's
 * x * inputScale - mean reads as the steps [scale(inputScale), subtractMean(mean)]. Any failure is a
 * ModelFormatError (its `problem` says which check) and nothing else: sizes are checked
 * before anything is allocated, and every loop is bounded by checked sizes. Last, the work
 * per example (cost.ts) must be within the compute bounds unless `options.allowLargeCompute`.
 * `source` names the file in messages. The result owns copies of the arrays.
 */
export function decodeBcnet(bytes: Uint8Array, source = "model", options: DecodeOptions = {}): BcnetModel {
  const fail = (problem: ModelFormatProblem, what: string, hint?: string): never => {
    throw new ModelFormatError(problem, `${source}: ${what}`, hint);
  };
  checkMagic(bytes, fail);
  if (bytes.length < HEADER_BYTES)
    fail(
      "truncated",
      `file is ${bytes.length} bytes, shorter than the ${HEADER_BYTES}-byte header: the file is truncated`,
      HINT_REEXPORT,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (at: number) => view.getUint32(at, true);
  const version = u32(8);
  if (!BCNET_VERSIONS.includes(version)) {
    fail(
      "version",
      `model format version ${version}; this binaryconnect reads versions ${BCNET_VERSIONS.slice(0, -1).join(", ")} and ${BCNET_VERSIONS[BCNET_VERSIONS.length - 1]}`,
      version > BCNET_VERSION ? "the file was written by a newer binaryconnect: update binaryconnect" : HINT_REEXPORT,
    );
  }
  const fileBytes = u32(12);
  if (bytes.length < fileBytes)
    fail(
      "truncated",
      `file is ${bytes.length} bytes but its header declares ${fileBytes}: the file is truncated (${fileBytes - bytes.length} bytes missing)`,
      "copy or download the file again",
    );
  if (bytes.length > fileBytes)
    fail(
      "invalid",
      `file is ${bytes.length} bytes but its header declares ${fileBytes}: trailing data or a corrupt header`,
      HINT_REEXPORT,
    );
  const stored = u32(16),
    actual = crc32(bytes.subarray(20));
  if (stored !== actual)
    fail(
      "checksum",
      `checksum mismatch (stored ${hex(stored)}, computed ${hex(actual)}): the file is corrupt`,
      "copy or download the file again, or export it again",
    );
  const model = readContents(bytes, view, version as BcnetVersion, fail);
  if (options.allowLargeCompute !== true) {
    checkCompute(computeCost(model.inputs, model.layers, model.preprocessing.steps), model.layers, (what) =>
      fail("invalid", what, HINT_LARGE),
    );
  }
  return model;
}

type Fail = (problem: ModelFormatProblem, what: string, hint?: string) => never;

function checkMagic(bytes: Uint8Array, fail: Fail): void {
  const n = Math.min(bytes.length, BCNET_MAGIC.length);
  for (let i = 0; i < n; i++) {
    if (bytes[i] !== BCNET_MAGIC[i]) {
      const found = Array.from(bytes.subarray(0, n), (b) => b.toString(16).padStart(2, "0")).join(" ");
      fail(
        "magic",
        `not a .bcnet model: expected the magic 89 42 43 4e 45 54 0d 0a ("\\x89BCNET\\r\\n"), found ${found}`,
        "pass a file written by `binaryconnect export` or the library's model.exportBcnet() (a training checkpoint such as best.bin, or a file of model.save(), is not a .bcnet)",
      );
    }
  }
  if (bytes.length < BCNET_MAGIC.length)
    fail("truncated", `file is ${bytes.length} bytes, shorter than the magic: the file is truncated`);
}

/** The header fields, the layer table, the info JSON and the arrays (after the checksum). */
function readContents(bytes: Uint8Array, view: DataView, version: BcnetVersion, fail: Fail): BcnetModel {
  const u32 = (at: number) => view.getUint32(at, true);
  // Bytes 32..35: versions 1 and 2, f32 inputScale; version 3, u32 the number of preprocessing steps.
  const inputs = u32(20),
    layerCount = u32(24),
    infoBytes = u32(28),
    inputScale = view.getFloat32(32, true),
    stepCount = u32(32);
  const inRange = (n: number, max: number) => n >= 1 && n <= max;
  if (!inRange(inputs, LIMITS.units)) fail("invalid", `${inputs} inputs; the format allows 1..${LIMITS.units}`);
  if (!inRange(layerCount, LIMITS.layers))
    fail("invalid", `${layerCount} layers; the format allows 1..${LIMITS.layers}`);
  if (infoBytes > LIMITS.infoBytes)
    fail("invalid", `${infoBytes} bytes of model info; the format allows at most ${LIMITS.infoBytes}`);
  if (version < 3 && !Number.isFinite(inputScale))
    fail("invalid", `the input scale is ${inputScale}; expected a finite number`);
  if (version === 3 && stepCount > LIMITS.steps)
    fail("invalid", `${stepCount} preprocessing steps; the format allows at most ${LIMITS.steps}`);
  const image = readImage(view, version, inputs, fail);
  const entryBytes = LAYER_ENTRY_BYTES[version];
  const steps = version === 3 ? stepCount : 0;
  const tableEnd = HEADER_BYTES + layerCount * entryBytes;
  if (tableEnd + steps * PREPROCESS_ENTRY_BYTES > bytes.length)
    fail(
      "invalid",
      `the table of ${layerCount} layers${steps ? ` and ${steps} preprocessing steps` : ""} runs past the end of the file`,
    );
  const invalid = (what: string): never => fail("invalid", what);
  const entries: LayerEntry[] = [];
  for (let i = 0; i < layerCount; i++)
    entries.push(readEntry(view, HEADER_BYTES + i * entryBytes, version, i, invalid));
  const heads = chainLayers(inputs, image, entries, invalid);
  const stepHeads: StepHead[] = [];
  for (let i = 0; i < steps; i++)
    stepHeads.push(readStepEntry(view, tableEnd + i * PREPROCESS_ENTRY_BYTES, i, invalid));
  // Sizes before anything is allocated: a ZCA's P is inputs squared.
  if (stepHeads.some((s) => s.kind === "zca") && inputs > LIMITS.zcaFeatures)
    fail("invalid", `a ZCA whitening of ${inputs} inputs; the format allows at most ${LIMITS.zcaFeatures}`);
  const arrayLengths = version < 3 ? [inputs] : stepHeads.flatMap((s) => stepArrayLengths(s.kind, inputs));
  const layout = layoutOf(version, inputs, heads.map(layerSizes), infoBytes, { steps, arrays: arrayLengths });
  if (layout.fileBytes !== bytes.length)
    fail(
      "invalid",
      `the header's sizes (${sizesText(inputs, image, heads)}, ${infoBytes} bytes of info${version === 3 ? `, ${preprocessingText(stepHeads)}` : ""}) make a ${layout.fileBytes}-byte file, but it has ${bytes.length} bytes`,
    );
  const floats = (at: number, n: number) => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(at + 4 * i, true);
    return out;
  };
  const finiteFloats = (at: number, n: number, what: string) => {
    const out = floats(at, n);
    const bad = out.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) fail("invalid", `${what}: value ${bad} is ${out[bad]}; expected finite numbers`);
    return out;
  };
  const layers = heads.map((h, i): BcnetLayer => {
    if (h.kind === "maxpool") return h;
    const at = layout.layers[i],
      n = fanOut(h);
    return {
      ...h,
      scale: finiteFloats(at.scale, n, `layer ${i}'s scale`),
      shift: finiteFloats(at.shift, n, `layer ${i}'s shift`),
      bits: bytes.slice(at.bits, at.bits + n * rowBytes(fanIn(h))),
    };
  });
  const info = readInfo(bytes.subarray(layout.info, layout.info + infoBytes), fail);
  const shape = preprocessingShape(inputs, image);
  let preprocessing: Preprocessing;
  if (version < 3) {
    preprocessing = {
      shape,
      steps: [
        { kind: "scale", factor: inputScale },
        { kind: "subtractMean", mean: finiteFloats(layout.arrays[0], inputs, "the mean") },
      ],
    };
  } else {
    let next = 0; // the next array of layout.arrays
    const array = () => {
      const n = arrayLengths[next];
      return floats(layout.arrays[next++], n);
    };
    preprocessing = {
      shape,
      steps: stepHeads.map(
        (h): PreprocessStep =>
          h.kind === "subtractMean"
            ? { kind: h.kind, mean: array() }
            : h.kind === "zca"
              ? { kind: h.kind, mean: array(), P: array() }
              : h,
      ),
    };
    checkPreprocessing(preprocessing, inputs, image, invalid);
  }
  return image ? { inputs, image, preprocessing, layers, info } : { inputs, preprocessing, layers, info };
}

/**
 * Header bytes 36..47. Version 1: reserved (zero). Version 2: the input image, u32 height,
 * width, channels. Version 3: the input image, or all zero for a feature vector.
 */
function readImage(view: DataView, version: BcnetVersion, inputs: number, fail: Fail): ImageShape | undefined {
  const u32 = (at: number) => view.getUint32(at, true);
  const zero = u32(36) === 0 && u32(40) === 0 && u32(44) === 0;
  if (version === 1) {
    if (!zero) fail("invalid", "reserved header bytes 36..47 are not zero");
    return undefined;
  }
  if (version === 3 && zero) return undefined;
  const image = { height: u32(36), width: u32(40), channels: u32(44) };
  if (
    ![image.height, image.width, image.channels].every((n) => n >= 1 && n <= LIMITS.units) ||
    imageSize(image) !== inputs
  ) {
    fail(
      "invalid",
      `the input image ${shapeText(image)} does not hold the ${inputs} inputs (each side 1..${LIMITS.units}, height x width x channels = inputs)`,
    );
  }
  return image;
}

/** "3 preprocessing steps (gcn, zca, ...)", for messages. */
function preprocessingText(steps: readonly StepHead[]): string {
  return `${steps.length} preprocessing step${steps.length === 1 ? "" : "s"}${steps.length ? ` (${steps.map((s) => s.kind).join(", ")})` : ""}`;
}

/** "784-12-5" (version 1) or "28x28x1-conv 8-maxpool-10" (version 2), for messages. */
function sizesText(inputs: number, image: ImageShape | undefined, heads: readonly LayerHead[]): string {
  const layers = heads.map((h) =>
    h.kind === "maxpool" ? "maxpool" : h.kind === "conv" ? `conv ${h.filters}` : `${h.units}`,
  );
  return [image ? shapeText(image) : `${inputs}`, ...layers].join("-");
}

function readInfo(bytes: Uint8Array, fail: Fail): ModelInfo {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    fail("invalid", `the model info is not UTF-8 JSON (${(e as Error).message})`);
  }
  if (
    typeof value !== "object" ||
    value === null ||
    Array.isArray(value) ||
    typeof (value as { producer?: unknown }).producer !== "string"
  ) {
    fail("invalid", 'the model info is not a JSON object with a "producer" string');
  }
  return value as ModelInfo;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}
