/**
 * IDX reader: the format of the official MNIST files (http://yann.lecun.com/exdb/mnist/).
 *
 * Layout (all integers big-endian):
 *   bytes 0-1  zero
 *   byte  2    element type: 0x08 unsigned byte (the only type read here)
 *   byte  3    number of dimensions d (1..4 here)
 *   then d uint32 sizes, then prod(sizes) elements, row-major (last dimension fastest).
 * MNIST: labels 0x00000801 [N], images 0x00000803 [N, 28, 28].
 *
 * `decodeIdx` is the pure parser (no Node API, usable in a browser). `gunzipIfNeeded` and
 * `readIdxFile` are the Node-only parts: gzip via node:zlib, files via node:fs.
 */
import { readFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import { DataFormatError } from "../core/errors.js";

/** A decoded IDX array of unsigned bytes: `data` holds prod(dims) values, row-major. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** The element type byte of unsigned-byte IDX files. */
export const IDX_TYPE_UBYTE = 0x08;

/** Element types the IDX format defines (byte 2 of the magic), for error messages. */
const IDX_TYPE_NAMES: Record<number, string> = {
  0x08: "unsigned byte",
  0x09: "signed byte",
  0x0b: "int16",
  0x0c: "int32",
  0x0d: "float32",
  0x0e: "float64",
};

const MAX_DIMS = 4;

function hex(b: number): string {
  return `0x${b.toString(16).padStart(2, "0")}`;
}

/** True when `bytes` starts with the gzip magic 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Checks the 4-byte magic; returns the number of dimensions. */
function readMagic(bytes: Uint8Array, source: string): number {
  if (bytes.length < 4) {
    throw new DataFormatError(
      `${source}: expected an IDX header of at least 4 bytes, found ${bytes.length} byte(s): the file is truncated`,
      "download the file again",
    );
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataFormatError(
      `${source}: not an IDX file: expected the magic to start with bytes 0x00 0x00, found ${hex(bytes[0])} ${hex(bytes[1])}`,
      "pass an official IDX file (for instance train-images-idx3-ubyte, plain or .gz)",
    );
  }
  const type = bytes[2];
  if (type !== IDX_TYPE_UBYTE) {
    const name = IDX_TYPE_NAMES[type] ?? "not a type defined by the IDX format";
    throw new DataFormatError(
      `${source}: unsupported IDX element type ${hex(type)} (${name}): expected ${hex(IDX_TYPE_UBYTE)} (unsigned byte)`,
      "only unsigned-byte IDX files (as MNIST ships them) can be read",
    );
  }
  const ndims = bytes[3];
  if (ndims < 1 || ndims > MAX_DIMS) {
    throw new DataFormatError(
      `${source}: expected 1..${MAX_DIMS} dimensions in the IDX magic (byte 3), found ${ndims}`,
      "the file is corrupt or not an IDX file",
    );
  }
  return ndims;
}

/** Reads the `ndims` big-endian uint32 sizes that follow the magic. */
function readDims(bytes: Uint8Array, ndims: number, source: string): number[] {
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new DataFormatError(
      `${source}: expected a ${headerBytes}-byte IDX header (magic + ${ndims} dimension sizes), found ${bytes.length} byte(s): the file is truncated`,
      "download the file again",
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, headerBytes);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  return dims;
}

/**
 * Parses an uncompressed IDX file of unsigned bytes. Pure: no Node API.
 * `source` names the file in error messages. The returned `data` is a view into `bytes`
 * (no copy). Throws DataFormatError on a bad magic, an element type other than 0x08,
 * 0 or more than 4 dimensions, or a byte length that does not match the declared sizes.
 */
export function decodeIdx(bytes: Uint8Array, source: string): IdxArray {
  if (isGzip(bytes)) {
    throw new DataFormatError(
      `${source}: expected uncompressed IDX bytes, found gzip data (magic 1f 8b)`,
      "decompress it first, or call parseIdx, which accepts gzipped bytes",
    );
  }
  const ndims = readMagic(bytes, source);
  const dims = readDims(bytes, ndims, source);
  const headerBytes = 4 + 4 * ndims;
  const expected = dims.reduce((a, d) => a * d, 1);
  const found = bytes.length - headerBytes;
  const shape = dims.join(" x ");
  if (found < expected) {
    throw new DataFormatError(
      `${source}: the file is truncated: dimensions ${shape} declare ${expected} data bytes after the ${headerBytes}-byte header, found ${found} (${expected - found} missing)`,
      "download the file again",
    );
  }
  if (found > expected) {
    throw new DataFormatError(
      `${source}: dimensions ${shape} declare ${expected} data bytes after the ${headerBytes}-byte header, found ${found} (${found - expected} extra bytes)`,
      "the file is corrupt or its header does not match its contents; download it again",
    );
  }
  return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + headerBytes, expected) };
}

/** Node only: returns `bytes` decompressed when they start with the gzip magic, else as is. */
export function gunzipIfNeeded(bytes: Uint8Array, source: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (err) {
    throw new DataFormatError(
      `${source}: starts with the gzip magic (1f 8b) but cannot be decompressed: ${(err as Error).message}`,
      "the download is probably incomplete; download the file again",
    );
  }
}

/** Parses IDX bytes, plain or gzipped (detected by the magic 1f 8b). See `decodeIdx`. */
export function parseIdx(bytes: Uint8Array, source: string): IdxArray {
  return decodeIdx(gunzipIfNeeded(bytes, source), source);
}

/** Reads and parses an IDX file (plain or gzipped). A missing file is a DataFormatError. */
export async function readIdxFile(path: string): Promise<IdxArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new DataFormatError(
        `IDX file not found: ${path}`,
        "check the path; MNIST files are named like train-images-idx3-ubyte (optionally .gz)",
      );
    }
    throw new DataFormatError(
      `cannot read IDX file ${path}: ${(err as Error).message}`,
      "expected a readable regular file",
    );
  }
  return parseIdx(bytes, path);
}
