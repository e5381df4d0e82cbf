/**
 * The dataset cache: where `binaryconnect data` writes the datasets it obtains and prepares,
 * and how (atomically). Default folder: $BINARYCONNECT_CACHE, else $XDG_CACHE_HOME/binaryconnect,
 * else ~/.cache/binaryconnect. A file is written as NAME.partial-PID, fsynced, then renamed:
 * a file under its final name is always complete, and an interrupted run leaves only
 * .partial files, which nothing reads and the next run removes.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";

/** The default cache folder. */
export function defaultCacheDir(): string {
  if (process.env.BINARYCONNECT_CACHE) return process.env.BINARYCONNECT_CACHE;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "binaryconnect");
}

/** Writes `chunks` to `path` atomically (temp file in the same folder, fsync, rename). */
export function writeFileAtomic(path: string, ...chunks: Uint8Array[]): void {
  const tmp = `${path}.partial-${process.pid}`;
  const fd = openSync(tmp, "w");
  try {
    for (const bytes of chunks) {
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    }
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

/** Creates `dir` and removes what interrupted runs left in it: .partial files and npm-pack-* work folders. */
export function prepareDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(dir)) {
    if (/\.partial-\d+$/.test(name)) unlinkSync(join(dir, name));
    else if (/^npm-pack-/.test(name)) rmSync(join(dir, name), { recursive: true, force: true });
  }
}

export function md5Hex(bytes: Uint8Array): string {
  return createHash("md5").update(bytes).digest("hex");
}

export function sha512Base64(bytes: Uint8Array): string {
  return createHash("sha512").update(bytes).digest("base64");
}

export { existsSync };
