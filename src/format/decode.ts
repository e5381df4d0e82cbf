import { ModelFormatError, type ModelFormatProblem } from "../core/errors.js";
import {
  ACTIVATIONS, BCNET_MAGIC, BCNET_VERSION, HEADER_BYTES, LAYER_ENTRY_BYTES, LAYER_KIND_BINARY_DENSE, LIMITS,
  layoutOf, rowBytes, type BcnetLayer, type BcnetModel, type ModelInfo,
} from "./bcnet.js";
import { crc32 } from "./crc32.js";

const HINT_REEXPORT = "export the model again: binaryconnect export RUN_DIR --out model.bcnet";

/**
 * Reads .bcnet bytes (docs/FORMAT.md). Checks, in this order: the magic, the version, the
 * length (truncation), the CRC-32, then that every header field is within the format's limits
 * and that the sizes they imply add up to the file's length. Any failure is a
 * ModelFormatError (its `problem` says which check) and nothing else: sizes are checked
 * before anything is allocated, and every loop is bounded by checked sizes.
 * `source` names the file in messages. The result owns copies of the arrays.
 */
export function decodeBcnet(bytes: Uint8Array, source = "model"): BcnetModel {
  const fail = (problem: ModelFormatProblem, what: string, hint?: string): never => {
    throw new ModelFormatError(problem, `${source}: ${what}`, hint);
  };
  checkMagic(bytes, fail);
  if (bytes.length < HEADER_BYTES) fail("truncated", `file is ${bytes.length} bytes, shorter than the ${HEADER_BYTES}-byte header: the file is truncated`, HINT_REEXPORT);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (at: number) => view.getUint32(at, true);
  const version = u32(8);
  if (version !== BCNET_VERSION) {
    fail("version", `model format version ${version}; this binaryconnect reads version ${BCNET_VERSION}`,
      version > BCNET_VERSION ? "the file was written by a newer binaryconnect: update binaryconnect" : HINT_REEXPORT);
  }
  const fileBytes = u32(12);
  if (bytes.length < fileBytes) fail("truncated", `file is ${bytes.length} bytes but its header declares ${fileBytes}: the file is truncated (${fileBytes - bytes.length} bytes missing)`, "copy or download the file again");
  if (bytes.length > fileBytes) fail("invalid", `file is ${bytes.length} bytes but its header declares ${fileBytes}: trailing data or a corrupt header`, HINT_REEXPORT);
  const stored = u32(16), actual = crc32(bytes.subarray(20));
  if (stored !== actual) fail("checksum", `checksum mismatch (stored ${hex(stored)}, computed ${hex(actual)}): the file is corrupt`, "copy or download the file again, or export it again");
  return readContents(bytes, view, fail);
}

type Fail = (problem: ModelFormatProblem, what: string, hint?: string) => never;

function checkMagic(bytes: Uint8Array, fail: Fail): void {
  const n = Math.min(bytes.length, BCNET_MAGIC.length);
  for (let i = 0; i < n; i++) {
    if (bytes[i] !== BCNET_MAGIC[i]) {
      const found = Array.from(bytes.subarray(0, n), (b) => b.toString(16).padStart(2, "0")).join(" ");
      fail("magic", `not a .bcnet model: expected the magic 89 42 43 4e 45 54 0d 0a ("\\x89BCNET\\r\\n"), found ${found}`,
        "pass a file written by `binaryconnect export` (a training checkpoint such as best.bin is not a model file)");
    }
  }
  if (bytes.length < BCNET_MAGIC.length) fail("truncated", `file is ${bytes.length} bytes, shorter than the magic: the file is truncated`);
}

/** The header fields, the layer table, the info JSON and the arrays (after the checksum). */
function readContents(bytes: Uint8Array, view: DataView, fail: Fail): BcnetModel {
  const u32 = (at: number) => view.getUint32(at, true);
  const inputs = u32(20), layerCount = u32(24), infoBytes = u32(28), inputScale = view.getFloat32(32, true);
  const inRange = (n: number, max: number) => n >= 1 && n <= max;
  if (!inRange(inputs, LIMITS.units)) fail("invalid", `${inputs} inputs; the format allows 1..${LIMITS.units}`);
  if (!inRange(layerCount, LIMITS.layers)) fail("invalid", `${layerCount} layers; the format allows 1..${LIMITS.layers}`);
  if (infoBytes > LIMITS.infoBytes) fail("invalid", `${infoBytes} bytes of model info; the format allows at most ${LIMITS.infoBytes}`);
  if (!Number.isFinite(inputScale)) fail("invalid", `the input scale is ${inputScale}; expected a finite number`);
  if (u32(36) !== 0 || u32(40) !== 0 || u32(44) !== 0) fail("invalid", "reserved header bytes 36..47 are not zero");
  if (HEADER_BYTES + layerCount * LAYER_ENTRY_BYTES > bytes.length) fail("invalid", `the table of ${layerCount} layers runs past the end of the file`);
  const units: number[] = [];
  const activations: BcnetLayer["activation"][] = [];
  for (let i = 0; i < layerCount; i++) {
    const e = HEADER_BYTES + i * LAYER_ENTRY_BYTES;
    const kind = u32(e), n = u32(e + 4), act = u32(e + 8);
    if (kind !== LAYER_KIND_BINARY_DENSE) fail("invalid", `layer ${i} has kind ${kind}; version ${BCNET_VERSION} knows kind ${LAYER_KIND_BINARY_DENSE} (binary dense) only`);
    if (!inRange(n, LIMITS.units)) fail("invalid", `layer ${i} has ${n} units; the format allows 1..${LIMITS.units}`);
    if (act >= ACTIVATIONS.length) fail("invalid", `layer ${i} has activation ${act}; expected 0 (identity) or 1 (relu)`);
    if (u32(e + 12) !== 0) fail("invalid", `layer ${i}: reserved bytes are not zero`);
    units.push(n);
    activations.push(ACTIVATIONS[act]);
  }
  const layout = layoutOf(inputs, units, infoBytes);
  if (layout.fileBytes !== bytes.length) fail("invalid", `the header's sizes (${[inputs, ...units].join("-")}, ${infoBytes} bytes of info) make a ${layout.fileBytes}-byte file, but it has ${bytes.length} bytes`);
  const floats = (at: number, n: number) => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(at + 4 * i, true);
    return out;
  };
  const layers: BcnetLayer[] = [];
  let fanIn = inputs;
  units.forEach((n, i) => {
    const at = layout.layers[i];
    layers.push({
      inputs: fanIn, units: n, activation: activations[i],
      scale: floats(at.scale, n), shift: floats(at.shift, n), bits: bytes.slice(at.bits, at.bits + n * rowBytes(fanIn)),
    });
    fanIn = n;
  });
  const info = readInfo(bytes.subarray(layout.info, layout.info + infoBytes), fail);
  return { inputs, preprocess: { inputScale, mean: floats(layout.mean, inputs) }, layers, info };
}

function readInfo(bytes: Uint8Array, fail: Fail): ModelInfo {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    fail("invalid", `the model info is not UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value) || typeof (value as { producer?: unknown }).producer !== "string") {
    fail("invalid", "the model info is not a JSON object with a \"producer\" string");
  }
  return value as ModelInfo;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}
