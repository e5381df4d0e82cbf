/**
 * A reader for MATLAB level-5 MAT-files (the format of the official SVHN files), enough for
 * numeric arrays: a 128-byte header (text, version 0x0100, endianness "IM"/"MI"), then data
 * elements, each a tag (type, byte count; or the 4-byte "small element" form) and its data
 * padded to 8 bytes. miCOMPRESSED elements (type 15: what MATLAB writes by default since v7, and
 * what the official SVHN files use) hold a zlib stream of another element. miMATRIX (type 14)
 * holds the array flags, dimensions, name and real data - stored in any numeric type, whatever
 * the array's class (MATLAB stores small integers compactly). Data is column-major.
 *
 * Rejected with a DataFormatError that says why: MAT v4 and v7.3 (HDF5) files, complex,
 * sparse, cell, struct and object arrays, unknown element types, truncated files.
 */
import { inflateSync } from "node:zlib";
import { DataFormatError } from "../core/errors.js";

/** One numeric array of the file. */
export interface MatArray {
  name: string;
  /** The array's MATLAB class ("uint8", "double", ...). */
  className: string;
  /** Dimensions, MATLAB order (column-major: the first index varies fastest). */
  dims: number[];
  /** The values in column-major order, in the type they were stored in. */
  data: Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;
}

const MI = {
  INT8: 1,
  UINT8: 2,
  INT16: 3,
  UINT16: 4,
  INT32: 5,
  UINT32: 6,
  SINGLE: 7,
  DOUBLE: 9,
  INT64: 12,
  UINT64: 13,
  MATRIX: 14,
  COMPRESSED: 15,
  UTF8: 16,
} as const;
/** mxCLASS ids of the numeric classes (1..5 are cell, struct, object, char, sparse). */
const CLASS_NAMES: Record<number, string> = {
  1: "cell",
  2: "struct",
  3: "object",
  4: "char",
  5: "sparse",
  6: "double",
  7: "single",
  8: "int8",
  9: "uint8",
  10: "int16",
  11: "uint16",
  12: "int32",
  13: "uint32",
  14: "int64",
  15: "uint64",
};

/** The numeric arrays of a MAT-file (`names`: only those, when given). */
export function readMat(bytes: Uint8Array, source: string, names?: readonly string[]): Map<string, MatArray> {
  const header = new TextDecoder("latin1").decode(bytes.subarray(0, Math.min(116, bytes.length)));
  if (bytes.length < 128 || !header.startsWith("MATLAB")) {
    throw new DataFormatError(
      `${source}: not a MATLAB 5 MAT-file (no "MATLAB 5.0 MAT-file" header; a MAT v4 file?)`,
      "save it as a level-5 MAT-file (MATLAB -v6 or -v7, scipy.io.savemat)",
    );
  }
  if (/MATLAB 7\.3/.test(header)) {
    throw new DataFormatError(
      `${source}: a MATLAB 7.3 MAT-file (HDF5), which this reader does not read`,
      "save it with -v7 (the official SVHN files are level 5)",
    );
  }
  const endian = String.fromCharCode(bytes[126], bytes[127]);
  if (endian !== "IM" && endian !== "MI")
    throw new DataFormatError(`${source}: bad MAT-file endianness indicator ${JSON.stringify(endian)}`);
  const little = endian === "IM";
  const out = new Map<string, MatArray>();
  let at = 128;
  while (at + 8 <= bytes.length) {
    const el = readElement(bytes, at, little, source);
    at = el.next;
    let matrix = el;
    if (el.type === MI.COMPRESSED) {
      let inflated: Uint8Array;
      try {
        inflated = inflateSync(el.data);
      } catch (e) {
        throw new DataFormatError(
          `${source}: a compressed element at byte ${el.start} does not decompress: ${(e as Error).message}`,
          "the file is truncated or corrupt",
        );
      }
      matrix = readElement(inflated, 0, little, `${source} (compressed element at byte ${el.start})`);
    }
    if (matrix.type !== MI.MATRIX) continue; // other top-level elements are not variables
    const array = readMatrix(matrix.data, little, source);
    if (array && (!names || names.includes(array.name))) out.set(array.name, array);
  }
  return out;
}

interface Element {
  type: number;
  data: Uint8Array;
  start: number;
  /** Where the next element starts. */
  next: number;
}

function readElement(bytes: Uint8Array, at: number, little: boolean, source: string): Element {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (at + 8 > bytes.length) throw new DataFormatError(`${source}: truncated at byte ${at} (a data element's tag)`);
  const first = view.getUint32(at, little);
  if (first >>> 16 !== 0) {
    // small data element: type and size in one word, data in the next 4 bytes
    const size = first >>> 16;
    return { type: first & 0xffff, data: bytes.subarray(at + 4, at + 4 + size), start: at, next: at + 8 };
  }
  const size = view.getUint32(at + 4, little);
  const end = at + 8 + size;
  if (end > bytes.length)
    throw new DataFormatError(
      `${source}: truncated: an element of ${size} bytes at byte ${at} runs past the end (${bytes.length} bytes)`,
      "the file is incomplete; copy or download it again",
    );
  // compressed elements are not padded; others are padded to 8 bytes
  const next = first === MI.COMPRESSED ? end : at + 8 + Math.ceil(size / 8) * 8;
  return { type: first, data: bytes.subarray(at + 8, end), start: at, next };
}

/** An miMATRIX element's array, or null for an empty placeholder. */
function readMatrix(m: Uint8Array, little: boolean, source: string): MatArray | null {
  if (m.length === 0) return null;
  const flags = readElement(m, 0, little, source);
  const flagWord = new DataView(flags.data.buffer, flags.data.byteOffset, 4).getUint32(0, little);
  const cls = flagWord & 0xff,
    complex = (flagWord & 0x800) !== 0;
  const className = CLASS_NAMES[cls] ?? `class ${cls}`;
  const dimsEl = readElement(m, flags.next, little, source);
  const dims = Array.from(typed(dimsEl.type, dimsEl.data, little, source), Number);
  const nameEl = readElement(m, dimsEl.next, little, source);
  const name = new TextDecoder().decode(nameEl.data);
  if (cls < 6 || cls > 15)
    throw new DataFormatError(
      `${source}: variable "${name}" is a ${className} array; this reader reads numeric arrays only`,
    );
  if (complex) throw new DataFormatError(`${source}: variable "${name}" is complex; expected real numbers`);
  const real = readElement(m, nameEl.next, little, source);
  const data = typed(real.type, real.data, little, source);
  const count = dims.reduce((a, b) => a * b, 1);
  if (data.length !== count)
    throw new DataFormatError(
      `${source}: variable "${name}" has dimensions ${dims.join("x")} (${count} values) but ${data.length} stored values`,
    );
  return { name, className, dims, data };
}

/** The values of a numeric element as a typed array (copied when unaligned or big-endian). */
function typed(type: number, data: Uint8Array, little: boolean, source: string): MatArray["data"] {
  const kinds: Record<
    number,
    {
      size: number;
      make: (b: ArrayBuffer, o: number, n: number) => MatArray["data"];
      get: (v: DataView, o: number) => number;
    }
  > = {
    [MI.INT8]: { size: 1, make: (b, o, n) => new Int8Array(b, o, n), get: (v, o) => v.getInt8(o) },
    [MI.UINT8]: { size: 1, make: (b, o, n) => new Uint8Array(b, o, n), get: (v, o) => v.getUint8(o) },
    [MI.INT16]: { size: 2, make: (b, o, n) => new Int16Array(b, o, n), get: (v, o) => v.getInt16(o, little) },
    [MI.UINT16]: { size: 2, make: (b, o, n) => new Uint16Array(b, o, n), get: (v, o) => v.getUint16(o, little) },
    [MI.INT32]: { size: 4, make: (b, o, n) => new Int32Array(b, o, n), get: (v, o) => v.getInt32(o, little) },
    [MI.UINT32]: { size: 4, make: (b, o, n) => new Uint32Array(b, o, n), get: (v, o) => v.getUint32(o, little) },
    [MI.SINGLE]: { size: 4, make: (b, o, n) => new Float32Array(b, o, n), get: (v, o) => v.getFloat32(o, little) },
    [MI.DOUBLE]: { size: 8, make: (b, o, n) => new Float64Array(b, o, n), get: (v, o) => v.getFloat64(o, little) },
  };
  const kind = kinds[type];
  if (!kind)
    throw new DataFormatError(
      `${source}: data stored as MAT element type ${type}, which this reader does not read (int64/uint64 or not numeric)`,
    );
  const n = Math.floor(data.length / kind.size);
  if ((little && data.byteOffset % kind.size === 0) || kind.size === 1)
    return kind.make(data.buffer as ArrayBuffer, data.byteOffset, n);
  const copy = kind.make(new ArrayBuffer(n * kind.size), 0, n);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < n; i++) copy[i] = kind.get(view, i * kind.size);
  return copy;
}
