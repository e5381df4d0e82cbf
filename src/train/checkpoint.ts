import { closeSync, fsyncSync, openSync, renameSync, writeSync, existsSync, readFileSync } from "node:fs";
import { crc32 } from "node:zlib";
import { CheckpointError } from "../core/errors.js";
import { decodeCheckpoint, encodeCheckpoint, type CheckpointContents } from "./checkpointFormat.js";

/** The container format (browser-safe) lives in checkpointFormat.ts; this file reads and writes it as files (Node). */
export { CHECKPOINT_VERSION, decodeCheckpoint, encodeCheckpoint, MAGIC, type CheckpointContents, type NamedArray } from "./checkpointFormat.js";

/** Writes bytes to `path` atomically: temp file in the same folder, fsync, rename. */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, "w");
  try {
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function saveCheckpoint<Meta>(path: string, contents: CheckpointContents<Meta>): void {
  writeFileAtomic(path, encodeCheckpoint(contents, crc32));
}

export function loadCheckpoint<Meta>(path: string): CheckpointContents<Meta> {
  if (!existsSync(path)) throw new CheckpointError(`no checkpoint at ${path}`, "train first, or pass the run folder given to --out");
  return decodeCheckpoint<Meta>(new Uint8Array(readFileSync(path)), path, crc32);
}

