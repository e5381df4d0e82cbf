import { CheckpointError } from "../core/errors.js";
import { crc32 as crc32Js } from "../format/crc32.js";

/**
 * The checkpoint file (little-endian):
 *   bytes 0-7   magic "BCONNECT" (MAGIC)
 *   uint32      format version (CHECKPOINT_VERSION)
 *   uint32      header length in bytes (UTF-8 JSON)
 *   uint32      CRC-32 of every byte after the magic, this field read as zero (version 2; in
 *               version 1: of the bytes after this field only)
 *   header      JSON: { meta, tensors: [{ name, shape, offset }] } (offsets in floats from the data start)
 *   padding     zeros to a multiple of 4 bytes
 *   data        float32 values of every tensor, in header order
 * Version 2 writes; versions 1 and 2 read. Browser-safe (no Node API); checkpoint.ts writes it
 * to files atomically. Whatever the bytes, decoding returns the contents or throws a
 * CheckpointError.
 */
export const MAGIC = "BCONNECT";
export const CHECKPOINT_VERSION = 2;
/** The versions this code reads. */
export const CHECKPOINT_VERSIONS: readonly number[] = [1, 2];

export interface NamedArray {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface CheckpointContents<Meta> {
  meta: Meta;
  tensors: NamedArray[];
}

const PREFIX = 20;
const CRC_AT = 16;

export function encodeCheckpoint<Meta>(
  contents: CheckpointContents<Meta>,
  crc32: (bytes: Uint8Array) => number = crc32Js,
): Uint8Array {
  let offset = 0;
  const index = contents.tensors.map((t) => {
    const entry = { name: t.name, shape: t.shape, offset };
    offset += t.data.length;
    return entry;
  });
  const header = new TextEncoder().encode(JSON.stringify({ meta: contents.meta, tensors: index }));
  const dataStart = align4(PREFIX + header.length);
  const bytes = new Uint8Array(dataStart + offset * 4);
  bytes.set(new TextEncoder().encode(MAGIC), 0);
  const view = new DataView(bytes.buffer);
  view.setUint32(8, CHECKPOINT_VERSION, true);
  view.setUint32(12, header.length, true);
  bytes.set(header, PREFIX);
  const floats = new Float32Array(bytes.buffer, dataStart, offset);
  for (let i = 0; i < contents.tensors.length; i++) floats.set(contents.tensors[i].data, index[i].offset);
  // the CRC field is still zero: the checksum covers the version and the header length too
  view.setUint32(CRC_AT, crc32(bytes.subarray(8)), true);
  return bytes;
}

export function decodeCheckpoint<Meta>(
  bytes: Uint8Array,
  source: string,
  crc32: (bytes: Uint8Array) => number = crc32Js,
): CheckpointContents<Meta> {
  const fail = (
    what: string,
    hint = "the file is damaged: binaryconnect only ever replaces a run folder's checkpoint.bin and best.bin (and a saved model) whole, so this one was changed or copied incompletely; restore it from a copy, or use the run's other file (eval and export read best.bin, or checkpoint.bin with --which last; a run whose checkpoint.bin is damaged starts again with its train command)",
  ): never => {
    throw new CheckpointError(`${source}: ${what}`, hint);
  };
  if (bytes.length < PREFIX)
    fail(
      `file is ${bytes.length} bytes, shorter than the ${PREFIX}-byte header: truncated or not a checkpoint`,
      "pass a checkpoint.bin, best.bin or model file written by binaryconnect; if it was one, it was cut short (a run folder's checkpoint.bin is only ever replaced whole)",
    );
  const magic = new TextDecoder().decode(bytes.subarray(0, 8));
  if (magic !== MAGIC)
    fail(
      `not a binaryconnect checkpoint: expected magic "${MAGIC}", found ${JSON.stringify(magic)}`,
      "pass a checkpoint.bin, best.bin or model file written by binaryconnect",
    );
  // one copy: the checksum of version 2 reads its own field as zero, and the tensors view the copy (aligned)
  const copy = bytes.slice();
  const view = new DataView(copy.buffer);
  const version = view.getUint32(8, true);
  if (!CHECKPOINT_VERSIONS.includes(version)) {
    fail(
      `checkpoint format version ${version}, but this binaryconnect reads versions ${CHECKPOINT_VERSIONS.join(" and ")}`,
      version > CHECKPOINT_VERSION
        ? "use the newer binaryconnect that wrote it"
        : "the file is damaged, or not a checkpoint",
    );
  }
  const headerLength = view.getUint32(12, true);
  const expectedCrc = view.getUint32(CRC_AT, true);
  let actualCrc: number;
  if (version === 1) {
    actualCrc = crc32(copy.subarray(PREFIX));
  } else {
    view.setUint32(CRC_AT, 0, true);
    actualCrc = crc32(copy.subarray(8));
  }
  if (expectedCrc !== actualCrc)
    fail(
      `checksum mismatch (stored ${hex(expectedCrc)}, computed ${hex(actualCrc)}): the file is corrupt or truncated`,
    );
  // version 1 does not cover the header length with its checksum: check it
  const dataStart = align4(PREFIX + headerLength);
  if (dataStart > copy.length)
    fail(`header of ${headerLength} bytes runs past the end of the ${copy.length}-byte file (truncated)`);
  if ((copy.length - dataStart) % 4 !== 0)
    fail(`the data is ${copy.length - dataStart} bytes, not a whole number of float32 values`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(copy.subarray(PREFIX, PREFIX + headerLength)));
  } catch {
    fail(`the ${headerLength}-byte header is not JSON`);
  }
  const h = header as { meta?: unknown; tensors?: unknown };
  if (
    typeof h !== "object" ||
    h === null ||
    typeof h.meta !== "object" ||
    h.meta === null ||
    !Array.isArray(h.tensors)
  ) {
    fail("the header is not { meta, tensors }");
  }
  const floatCount = (copy.length - dataStart) / 4;
  const floats = new Float32Array(copy.buffer, dataStart, floatCount);
  const tensors = (h.tensors as unknown[]).map((entry, i) => {
    const { name, shape, offset } = (typeof entry === "object" && entry !== null ? entry : {}) as {
      name?: unknown;
      shape?: unknown;
      offset?: unknown;
    };
    if (typeof name !== "string" || !Array.isArray(shape) || !shape.every(isCount) || !isCount(offset)) {
      return fail(`tensor ${i} of the header is not { name, shape, offset } with whole numbers`);
    }
    const n = (shape as number[]).reduce((a, b) => a * b, 1);
    if (!Number.isSafeInteger(n) || offset + n > floatCount)
      fail(`tensor ${name} [${String(shape)}] runs past the end of the data`);
    return { name, shape: shape as number[], data: floats.subarray(offset, offset + n) };
  });
  return { meta: h.meta as Meta, tensors };
}

function isCount(x: unknown): x is number {
  return typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
}

function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}
