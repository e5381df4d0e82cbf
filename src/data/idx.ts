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
 * `decodeIdx` is the pure parser (no Node API, usable in a browser). `gunzipIfNeeded`,
 * `parseIdx` and `readIdxFile` are the Node-only parts: gzip via node:zlib, files via node:fs.
 *
 * Work is bounded by the header: gzip data is decompressed only up to the size its IDX header
 * declares (the header is decompressed first; more output is an error, found as soon as it
 * appears), a plain file's length is compared with the header before its data is read, and
 * only regular files are opened (a FIFO, socket, directory or device is an error, not a hang).
 */
import { constants as fsConstants, type Stats } from "node:fs";
import { open, stat, type FileHandle } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { constants as zlibConstants, createGunzip, gunzipSync, inflateRawSync } from "node:zlib";
import { DataFormatError } from "../core/errors.js";
import { readError } from "./readError.js";

/** A decoded IDX array of unsigned bytes: `data` holds prod(dims) values, row-major. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** The element type byte of unsigned-byte IDX files. */
export const IDX_TYPE_UBYTE = 0x08;

/** Element types the IDX format defines (byte 2 of the magic), for error messages. */
const IDX_TYPE_NAMES: Record<number, string> = {
  8: "unsigned byte",
  9: "signed byte",
  11: "int16",
  12: "int32",
  13: "float32",
  14: "float64",
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
      "pass an official IDX file (for instance train-images-idx3-ubyte, plain or .gz); binaryconnect predict also reads PNG images",
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
  const { dims, headerBytes, dataBytes } = readHeader(bytes, source);
  checkDataBytes(dims, headerBytes, bytes.length - headerBytes, source);
  return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + headerBytes, dataBytes) };
}

/** An IDX header: the dimensions, its length in bytes and the data bytes it declares (prod(dims)). */
export interface IdxHeader {
  dims: number[];
  headerBytes: number;
  dataBytes: number;
}

/** Reads the header at the start of `bytes` (magic and sizes; throws when they are bad or cut short). */
function readHeader(bytes: Uint8Array, source: string): IdxHeader {
  const ndims = readMagic(bytes, source);
  const dims = readDims(bytes, ndims, source);
  return { dims, headerBytes: 4 + 4 * ndims, dataBytes: dims.reduce((a, d) => a * d, 1) };
}

/**
 * The header at the start of `prefix` (the first bytes of a file), or null when it needs more
 * bytes than the prefix has. Throws as readHeader on a bad magic.
 */
function headerOfPrefix(prefix: Uint8Array, source: string): IdxHeader | null {
  if (prefix.length < 4 || prefix.length < 4 + 4 * readMagic(prefix, source)) return null;
  return readHeader(prefix, source);
}

/** Throws unless `found` data bytes are what the header declares (truncated, or extra bytes). */
function checkDataBytes(dims: number[], headerBytes: number, found: number, source: string): void {
  const expected = dims.reduce((a, d) => a * d, 1);
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
}

/** The error for gzip data that decompresses past what its header declares (found as soon as it does). */
function tooLong(header: IdxHeader, source: string): DataFormatError {
  return new DataFormatError(
    `${source}: dimensions ${header.dims.join(" x ")} declare ${header.dataBytes} data bytes after the ${header.headerBytes}-byte header, ` +
      "but the gzip data decompresses to more: decompression stopped there (trailing data, or a header that does not match the contents)",
    "the file is corrupt or its header does not match its contents; download it again",
  );
}

/** The error for gzip data that cannot be decompressed. */
function gzipError(err: unknown, source: string): DataFormatError {
  return new DataFormatError(
    `${source}: starts with the gzip magic (1f 8b) but cannot be decompressed: ${(err as Error).message}`,
    "the download is probably incomplete; download the file again",
  );
}

/**
 * The most bytes `compressed` bytes of gzip data can decompress to: deflate expands at most
 * 1032:1 (a 258-byte match in 2 bits), plus a little for the first block.
 */
function maxInflated(compressed: number): number {
  return 1032 * compressed + 1024;
}

/** Throws when gzip data of `compressed` bytes cannot hold what the header declares (no need to inflate it). */
function checkInflatable(header: IdxHeader, compressed: number, source: string): void {
  const total = header.headerBytes + header.dataBytes;
  if (total > maxInflated(compressed)) {
    throw new DataFormatError(
      `${source}: the file is truncated: dimensions ${header.dims.join(" x ")} declare ${header.dataBytes} data bytes, ` +
        `but ${compressed} bytes of gzip data decompress to at most ${maxInflated(compressed)} (deflate expands at most 1032:1)`,
      "download the file again",
    );
  }
}

/** Bytes of deflate data tried at most for the IDX header (a first block's code tables take a few hundred). */
const HEADER_DEFLATE_BYTES = 1 << 12;

/**
 * The IDX header of gzip data, decompressing only a prefix of its first deflate stream (the
 * output of `n` deflate bytes is at most 1032 n: a few MiB at most here).
 */
function gzipHeader(bytes: Uint8Array, source: string): IdxHeader {
  const start = gzipMemberStart(bytes, source);
  let prefix: Uint8Array = new Uint8Array(0);
  for (let n = 64; ; n *= 2) {
    const end = Math.min(bytes.length, start + n);
    try {
      prefix = inflateRawSync(bytes.subarray(start, end), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    } catch (err) {
      throw gzipError(err, source);
    }
    const header = headerOfPrefix(prefix, source);
    if (header) return header;
    if (end === bytes.length || n >= HEADER_DEFLATE_BYTES) break;
  }
  // Too short: the whole stream (or its first HEADER_DEFLATE_BYTES) gives less than a header.
  readHeader(prefix, source);
  throw new DataFormatError(
    `${source}: expected the IDX header in the first ${HEADER_DEFLATE_BYTES} bytes of deflate data, found ${prefix.length} decompressed byte(s)`,
    "the file is corrupt or was not written by gzip; decompress it with another tool and pass the plain file",
  );
}

/** Where the deflate data of the gzip member at the start of `bytes` begins (after the optional fields, RFC 1952). */
function gzipMemberStart(bytes: Uint8Array, source: string): number {
  const fail = (what: string): never => {
    throw gzipError(new Error(what), source);
  };
  if (bytes.length < 10) fail(`a ${bytes.length}-byte file is shorter than a gzip header (10 bytes)`);
  if (bytes[2] !== 8) fail(`compression method ${bytes[2]}; gzip uses 8 (deflate)`);
  const flags = bytes[3];
  let at = 10;
  if (flags & 4) at += 2 + (bytes[at] | (bytes[at + 1] << 8)); // FEXTRA: its length, then the field
  for (const flag of [8, 16]) {
    // FNAME, FCOMMENT: zero-terminated
    if (!(flags & flag)) continue;
    while (at < bytes.length && bytes[at] !== 0) at++;
    at++;
  }
  if (flags & 2) at += 2; // FHCRC
  if (at >= bytes.length) fail("the gzip header runs past the end of the file");
  return at;
}

/**
 * Node only: returns `bytes` decompressed when they start with the gzip magic, else as is.
 * The output is bounded by the IDX header: the header is decompressed first, then at most the
 * size it declares (more is a DataFormatError, found without decompressing the rest).
 */
export function gunzipIfNeeded(bytes: Uint8Array, source: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  const header = gzipHeader(bytes, source);
  checkInflatable(header, bytes.length, source);
  try {
    return gunzipSync(bytes, { maxOutputLength: header.headerBytes + header.dataBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") throw tooLong(header, source);
    throw gzipError(err, source);
  }
}

/** Parses IDX bytes, plain or gzipped (detected by the magic 1f 8b), decompressing no more than the header declares. See `decodeIdx`. */
export function parseIdx(bytes: Uint8Array, source: string): IdxArray {
  return decodeIdx(gunzipIfNeeded(bytes, source), source);
}

/** "a FIFO (named pipe)", "a directory", ... for a file that is not a regular file. */
export function fileKind(stats: Stats): string {
  if (stats.isFile()) return "a regular file";
  if (stats.isDirectory()) return "a directory";
  if (stats.isFIFO()) return "a FIFO (named pipe)";
  if (stats.isSocket()) return "a socket";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isSymbolicLink()) return "a symbolic link";
  return "not a regular file";
}

/**
 * Throws a DataFormatError unless `stats` (of `path`) are a regular file's: reading a FIFO or
 * a device could block or never end, a directory has no bytes.
 */
export function requireRegularFile(path: string, stats: Stats, hint: string): void {
  if (!stats.isFile()) throw new DataFormatError(`${path} is ${fileKind(stats)}; expected a regular file`, hint);
}

/** Flags that open a FIFO without waiting for a writer (where the platform has O_NONBLOCK); fstat then refuses it. */
export const OPEN_READ_NONBLOCK = fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0);

const HINT_IDX_FILE = "pass an IDX file (for instance train-images-idx3-ubyte, plain or .gz)";

/**
 * Reads and parses an IDX file (plain or gzipped). Only a regular file is read (it is checked
 * before it is opened and again once open); a missing file, another kind of file, or one that
 * does not match its header is a DataFormatError. A plain file's length is compared with its
 * header before the data is read; gzip data is decompressed as a stream, the header first, and
 * no further than the size the header declares.
 */
export async function readIdxFile(path: string): Promise<IdxArray> {
  let handle: FileHandle;
  try {
    requireRegularFile(path, await stat(path), HINT_IDX_FILE);
    handle = await open(path, OPEN_READ_NONBLOCK);
  } catch (err) {
    if (err instanceof DataFormatError) throw err;
    if ((err as NodeJS.ErrnoException).code === "ENOENT")
      throw readError(
        err,
        path,
        `IDX file not found: ${path}`,
        "check the path; MNIST files are named like train-images-idx3-ubyte (optionally .gz)",
      );
    throw readError(
      err,
      path,
      `cannot read IDX file ${path}: ${(err as Error).message}`,
      "expected a readable regular file",
    );
  }
  try {
    const stats = await handle.stat();
    requireRegularFile(path, stats, HINT_IDX_FILE);
    const magic = new Uint8Array(2);
    const { bytesRead } = await handle.read(magic, 0, 2, 0);
    return isGzip(magic.subarray(0, bytesRead))
      ? await readGzipIdx(handle, stats.size, path)
      : await readPlainIdx(handle, stats.size, path);
  } catch (err) {
    if (err instanceof DataFormatError) throw err;
    throw new DataFormatError(
      `cannot read IDX file ${path}: ${(err as Error).message}`,
      "expected a readable regular file",
    );
  } finally {
    await handle.close();
  }
}

/** Reads `n` bytes at `position` (fewer at the end of the file). */
async function readAt(handle: FileHandle, n: number, position: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let at = 0;
  while (at < n) {
    const { bytesRead } = await handle.read(out, at, n - at, position + at);
    if (bytesRead === 0) break;
    at += bytesRead;
  }
  return out.subarray(0, at);
}

/** A plain IDX file: the header, then its length checked against the header, then the data. */
async function readPlainIdx(handle: FileHandle, size: number, path: string): Promise<IdxArray> {
  const header = readHeader(await readAt(handle, Math.min(size, 4 + 4 * MAX_DIMS), 0), path);
  checkDataBytes(header.dims, header.headerBytes, size - header.headerBytes, path);
  const data = await readAt(handle, header.dataBytes, header.headerBytes);
  // The file may have changed since it was measured.
  const more = (await readAt(handle, 1, header.headerBytes + header.dataBytes)).length;
  checkDataBytes(header.dims, header.headerBytes, data.length + more, path);
  return { dims: header.dims, data };
}

/**
 * A gzipped IDX file as a stream: the header is decompressed first, then the data into a
 * buffer of the declared size; one byte more stops decompression with a DataFormatError.
 */
async function readGzipIdx(handle: FileHandle, size: number, path: string): Promise<IdxArray> {
  const prefix = new Uint8Array(4 + 4 * MAX_DIMS);
  let prefixBytes = 0;
  let header: IdxHeader | null = null;
  let data: Uint8Array | null = null;
  let at = 0;
  const take = (chunk: Uint8Array) => {
    let from = 0;
    if (!header) {
      const n = Math.min(chunk.length, prefix.length - prefixBytes);
      prefix.set(chunk.subarray(0, n), prefixBytes);
      prefixBytes += n;
      from = n;
      header = headerOfPrefix(prefix.subarray(0, prefixBytes), path);
      if (!header) return;
      checkInflatable(header, size, path);
      try {
        data = new Uint8Array(header.dataBytes);
      } catch {
        throw new DataFormatError(
          `${path}: dimensions ${header.dims.join(" x ")} declare ${header.dataBytes} data bytes, more than this process can hold`,
          "the file is corrupt, or too large to load at once",
        );
      }
      // Bytes of the prefix past the header are data.
      const extra = prefixBytes - header.headerBytes;
      from -= extra;
    }
    const rest = chunk.length - from;
    if (at + rest > data!.length) throw tooLong(header, path);
    data!.set(chunk.subarray(from), at);
    at += rest;
  };
  // The error that stopped decompression (pipeline may report the abort of its streams instead).
  let stopped: DataFormatError | null = null;
  try {
    await pipeline(
      handle.createReadStream({ start: 0, autoClose: false }),
      createGunzip(),
      async (chunks: AsyncIterable<Buffer>) => {
        for await (const chunk of chunks) {
          try {
            take(chunk);
          } catch (err) {
            if (err instanceof DataFormatError) stopped = err;
            throw err;
          }
        }
      },
    );
  } catch (err) {
    if (stopped) throw stopped;
    if (err instanceof DataFormatError) throw err;
    throw gzipError(err, path);
  }
  if (!header) {
    readHeader(prefix.subarray(0, prefixBytes), path); // throws: the header is cut short
    throw new DataFormatError(`${path}: the file is truncated`, "download the file again");
  }
  const h = header as IdxHeader;
  checkDataBytes(h.dims, h.headerBytes, at, path);
  return { dims: h.dims, data: data! };
}
