import { crc32 } from "node:zlib";
import { CheckpointError } from "../core/errors.js";
import { decodeCheckpoint, encodeCheckpoint, type CheckpointContents } from "./checkpointFormat.js";
import { pathExists, readFileChecked, writeFileAtomic } from "./fsio.js";

/** The container format (browser-safe) lives in checkpointFormat.ts; this file reads and writes it as files (Node). */
export {
  CHECKPOINT_VERSION,
  CHECKPOINT_VERSIONS,
  decodeCheckpoint,
  encodeCheckpoint,
  MAGIC,
  type CheckpointContents,
  type NamedArray,
} from "./checkpointFormat.js";
/** Atomic writes with typed errors (fsio.ts); kept here for the callers that import them from the checkpoint module. */
export { writeFileAtomic } from "./fsio.js";

export function saveCheckpoint<Meta>(path: string, contents: CheckpointContents<Meta>): void {
  writeFileAtomic(path, encodeCheckpoint(contents, crc32));
}

/** The bytes of a checkpoint as the file holds them, checked (node's CRC-32). */
export function checkpointFromBytes<Meta>(bytes: Uint8Array, source: string): CheckpointContents<Meta> {
  return decodeCheckpoint<Meta>(bytes, source, crc32);
}

export function loadCheckpoint<Meta>(path: string): CheckpointContents<Meta> {
  if (!pathExists(path))
    throw new CheckpointError(`no checkpoint at ${path}`, "train first, or pass the run folder given to --out");
  return decodeCheckpoint<Meta>(readFileChecked(path, "read the checkpoint"), path, crc32);
}
