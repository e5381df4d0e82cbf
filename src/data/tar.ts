import { gunzipSync } from "node:zlib";
import { DataFormatError } from "../core/errors.js";

/** A regular file of a tar archive. */
export interface TarEntry {
  /** Path inside the archive ("package/data_batch_1.png"). */
  name: string;
  data: Uint8Array;
}

const BLOCK = 512;

/**
 * The regular files of a tar archive (POSIX ustar, with GNU long names and pax path records),
 * gunzipped first when the bytes start with the gzip magic. Every header's checksum is verified;
 * a truncated or corrupt archive is a DataFormatError naming `source`. Entries are views into
 * the (decompressed) bytes.
 */
export function readTar(bytes: Uint8Array, source: string): TarEntry[] {
  const tar = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzip(bytes, source) : bytes;
  const entries: TarEntry[] = [];
  let longName: string | null = null;
  for (let at = 0; at + BLOCK <= tar.length; ) {
    const header = tar.subarray(at, at + BLOCK);
    if (header.every((b) => b === 0)) return entries; // end of archive
    checkHeader(header, at, source);
    const size = octal(header.subarray(124, 136), source);
    const type = String.fromCharCode(header[156] || 0x30);
    const dataStart = at + BLOCK,
      dataEnd = dataStart + size;
    if (dataEnd > tar.length)
      throw new DataFormatError(
        `${source}: tar entry at byte ${at} runs past the end of the archive (truncated download?)`,
        "fetch the archive again",
      );
    const data = tar.subarray(dataStart, dataEnd);
    if (type === "L") {
      longName = text(data);
    } else if (type === "x") {
      longName = paxPath(data) ?? longName;
    } else if (type === "0" || type === "7") {
      const prefix = text(header.subarray(345, 500));
      const name = longName ?? (prefix ? `${prefix}/${text(header.subarray(0, 100))}` : text(header.subarray(0, 100)));
      entries.push({ name, data });
      longName = null;
    } else {
      longName = null; // directories, links, global pax headers: skipped
    }
    at = dataStart + Math.ceil(size / BLOCK) * BLOCK;
  }
  throw new DataFormatError(
    `${source}: the tar archive ends without its end-of-archive blocks (truncated?)`,
    "fetch the archive again",
  );
}

function gunzip(bytes: Uint8Array, source: string): Uint8Array {
  try {
    return gunzipSync(bytes);
  } catch (e) {
    throw new DataFormatError(
      `${source}: cannot decompress the gzip archive: ${(e as Error).message}`,
      "the file is truncated or corrupt; fetch it again",
    );
  }
}

/** The header checksum: the sum of its bytes with the checksum field read as spaces. */
function checkHeader(header: Uint8Array, at: number, source: string): void {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i];
  const stored = octal(header.subarray(148, 156), source);
  if (stored !== sum)
    throw new DataFormatError(
      `${source}: not a tar archive, or corrupt: header checksum at byte ${at} is ${stored}, computed ${sum}`,
    );
}

function octal(field: Uint8Array, source: string): number {
  if (field[0] & 0x80) {
    // base-256 (GNU, sizes >= 8 GiB)
    let v = 0;
    for (let i = 1; i < field.length; i++) v = v * 256 + field[i];
    return v;
  }
  const s = text(field).trim();
  if (!/^[0-7]*$/.test(s))
    throw new DataFormatError(`${source}: not a tar archive (bad number field ${JSON.stringify(s)})`);
  return s === "" ? 0 : parseInt(s, 8);
}

function text(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
}

/** The "path" record of a pax extended header ("<len> path=<value>\n" records). */
function paxPath(data: Uint8Array): string | null {
  for (const line of new TextDecoder().decode(data).split("\n")) {
    const m = /^\d+ path=(.*)$/.exec(line);
    if (m) return m[1];
  }
  return null;
}
