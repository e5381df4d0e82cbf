import { CheckpointError } from "../core/errors.js";
import { crc32 as crc32Js } from "../format/crc32.js";

/**
 * The checkpoint file (little-endian):
 *   bytes 0-7   magic "BCONNECT" (MAGIC)
 *   uint32      format version (CHECKPOINT_VERSION)
 *   uint32      header length in bytes (UTF-8 JSON)
 *   uint32      CRC-32 of everything after this field (header + padding + data)
 *   header      JSON: { meta, tensors: [{ name, shape, offset }] } (offsets in floats from the data start)
 *   padding     zeros to a multiple of 4 bytes
 *   data        float32 values of every tensor, in header order
 * Browser-safe (no Node API); checkpoint.ts writes it to files atomically.
 */
export const MAGIC = "BCONNECT";
export const CHECKPOINT_VERSION = 1;

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

export function encodeCheckpoint<Meta>(contents: CheckpointContents<Meta>, crc32: (bytes: Uint8Array) => number = crc32Js): Uint8Array {
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
  view.setUint32(16, crc32(bytes.subarray(PREFIX)), true);
  return bytes;
}

export function decodeCheckpoint<Meta>(bytes: Uint8Array, source: string, crc32: (bytes: Uint8Array) => number = crc32Js): CheckpointContents<Meta> {
  const fail = (what: string, hint?: string): never => {
    throw new CheckpointError(`${source}: ${what}`, hint);
  };
  if (bytes.length < PREFIX) fail(`file is ${bytes.length} bytes, shorter than the ${PREFIX}-byte header: truncated or not a checkpoint`);
  const magic = new TextDecoder().decode(bytes.subarray(0, 8));
  if (magic !== MAGIC) fail(`not a binaryconnect checkpoint: expected magic "${MAGIC}", found ${JSON.stringify(magic)}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== CHECKPOINT_VERSION) {
    fail(`checkpoint format version ${version}, but this binaryconnect reads version ${CHECKPOINT_VERSION}`,
      "use the binaryconnect version that wrote it, or retrain");
  }
  const headerLength = view.getUint32(12, true);
  const dataStart = align4(PREFIX + headerLength);
  if (dataStart > bytes.length) fail(`header of ${headerLength} bytes runs past the end of the ${bytes.length}-byte file (truncated)`);
  const expectedCrc = view.getUint32(16, true);
  const actualCrc = crc32(bytes.subarray(PREFIX));
  if (expectedCrc !== actualCrc) fail(`checksum mismatch (stored ${hex(expectedCrc)}, computed ${hex(actualCrc)}): the file is corrupt or truncated`);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(PREFIX, PREFIX + headerLength))) as {
    meta: Meta; tensors: { name: string; shape: number[]; offset: number }[];
  };
  const floatCount = (bytes.length - dataStart) / 4;
  const aligned = new Float32Array(floatCount);
  new Uint8Array(aligned.buffer).set(bytes.subarray(dataStart));
  const tensors = header.tensors.map(({ name, shape, offset }) => {
    const n = shape.reduce((a, b) => a * b, 1);
    if (offset + n > floatCount) fail(`tensor ${name} [${shape}] runs past the end of the data`);
    return { name, shape, data: aligned.subarray(offset, offset + n) };
  });
  return { meta: header.meta, tensors };
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}
