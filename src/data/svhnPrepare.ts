/**
 * SVHN ready to train (`binaryconnect data svhn --from DIR`), split as the authors (through
 * pylearn2's SVHN "splitted_train" / "valid"): validation = 400 images per class from the
 * training file and 200 per class from extra (6,000), train = train + extra minus those
 * (598,388), test = the 26,032 test images. The validation images are drawn with this
 * project's seeded generator (pylearn2 used NumPy's RandomState(322)): the same sizes, not
 * the same images. Without extra_32x32.mat, 600 per class come from the training file.
 *
 * The cache (<cache>/svhn/format2-v1/{train,valid,test}.u8) keeps raw uint8 NHWC images (the
 * float32 preprocessed train + extra would be 7.4 GB); GCN (scale 1) and LCN are applied to
 * each example as a batch is gathered (preprocess.ts, lcn.ts). Files: "BCU8SET1", a JSON header,
 * labels, images; a CRC-32 over everything after the 16-byte prefix; written atomically.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { DataFormatError } from "../core/errors.js";
import { Xoshiro128 } from "../core/rng.js";
import { prepareDir, writeFileAtomic } from "./cache.js";
import { localContrastNormalize } from "./lcn.js";
import { globalContrastNormalize } from "./preprocess.js";
import type { Dataset } from "./dataset.js";
import type { SplitLimit } from "./split.js";
import { parseSvhnMat, SVHN_FILES, SVHN_IMAGE_BYTES, type SvhnSet } from "./svhn.js";

const MAGIC = "BCU8SET1";
export const SVHN_PREP_VERSION = 1;
const VALID_PER_CLASS = { train: 400, extra: 200 } as const;
const SPLIT_SEED = 322;

export function svhnPreparedDir(cacheDir: string): string {
  return join(cacheDir, "svhn", `format2-v${SVHN_PREP_VERSION}`);
}

export interface PrepareSvhnOptions {
  cacheDir: string;
  /** The folder holding the official format-2 files. */
  from: string;
  log?: (message: string) => void;
  /** Validation images per class from each file (default 400 from train, 200 from extra; tests use small files). */
  validPerClass?: { train: number; extra: number };
}

/** Reads the user's files, splits, and writes the cache; returns its folder. */
export function prepareSvhn(opts: PrepareSvhnOptions): string {
  const log = opts.log ?? (() => {});
  const read = (file: string, required: boolean): SvhnSet | null => {
    const path = join(opts.from, file);
    if (!existsSync(path)) {
      if (required)
        throw new DataFormatError(
          `SVHN: ${path} is missing`,
          `--from must be the folder holding ${Object.values(SVHN_FILES).join(", ")} (format 2)`,
        );
      return null;
    }
    log(`SVHN: reading ${path}`);
    const set = parseSvhnMat(readFileSync(path), path);
    log(`SVHN: ${file}: ${set.n.toLocaleString("en-US")} images`);
    return set;
  };
  const train = read(SVHN_FILES.train, true)!,
    test = read(SVHN_FILES.test, true)!,
    extra = read(SVHN_FILES.extra, false);
  if (!extra)
    log(
      `SVHN: no ${SVHN_FILES.extra}: training on ${SVHN_FILES.train} only (the paper adds extra), validation 600 per class from it`,
    );
  const rng = new Xoshiro128(SPLIT_SEED);
  const per = opts.validPerClass ?? VALID_PER_CLASS;
  const fromTrain = pickPerClass(train, extra ? per.train : per.train + per.extra, rng, SVHN_FILES.train);
  const fromExtra = extra ? pickPerClass(extra, per.extra, rng, SVHN_FILES.extra) : new Set<number>();
  const dir = svhnPreparedDir(opts.cacheDir);
  prepareDir(dir);
  const valid = gather([
    [train, (i) => fromTrain.has(i)],
    [extra, (i) => fromExtra.has(i)],
  ]);
  const rest = gather([
    [train, (i) => !fromTrain.has(i)],
    [extra, (i) => !fromExtra.has(i)],
  ]);
  writeFileAtomic(join(dir, "test.u8"), ...encodeSet(test, "test"));
  writeFileAtomic(join(dir, "valid.u8"), ...encodeSet(valid, "valid"));
  writeFileAtomic(join(dir, "train.u8"), ...encodeSet(rest, "train")); // last: marks a complete preparation
  log(
    `SVHN: wrote ${dir}: train ${rest.n.toLocaleString("en-US")}, validation ${valid.n.toLocaleString("en-US")}, test ${test.n.toLocaleString("en-US")}`,
  );
  return dir;
}

/** `perClass` random indices of each label (0..9) of `set`. */
function pickPerClass(set: SvhnSet, perClass: number, rng: Xoshiro128, file: string): Set<number> {
  const picked = new Set<number>();
  for (let label = 0; label < 10; label++) {
    const idx: number[] = [];
    for (let i = 0; i < set.n; i++) if (set.labels[i] === label) idx.push(i);
    if (idx.length < perClass)
      throw new DataFormatError(
        `SVHN: ${file} has ${idx.length} images of digit ${label}, fewer than the ${perClass} the validation split takes`,
      );
    const order = Uint32Array.from(idx);
    rng.shuffle(order);
    for (let k = 0; k < perClass; k++) picked.add(order[k]);
  }
  return picked;
}

/** The images of each set that `keep` selects, in file order, concatenated. */
function gather(parts: [SvhnSet | null, (i: number) => boolean][]): SvhnSet {
  let n = 0;
  for (const [set, keep] of parts) if (set) for (let i = 0; i < set.n; i++) if (keep(i)) n++;
  const images = new Uint8Array(n * SVHN_IMAGE_BYTES),
    labels = new Uint8Array(n);
  let at = 0;
  for (const [set, keep] of parts) {
    if (!set) continue;
    for (let i = 0; i < set.n; i++) {
      if (!keep(i)) continue;
      labels[at] = set.labels[i];
      images.set(set.images.subarray(i * SVHN_IMAGE_BYTES, (i + 1) * SVHN_IMAGE_BYTES), at * SVHN_IMAGE_BYTES);
      at++;
    }
  }
  return { images, labels, n };
}

function encodeSet(set: SvhnSet, name: string): Uint8Array[] {
  const header = new TextEncoder().encode(
    JSON.stringify({
      kind: "svhn",
      version: SVHN_PREP_VERSION,
      set: name,
      n: set.n,
      features: SVHN_IMAGE_BYTES,
      layout: "NHWC 32x32x3 uint8",
    }),
  );
  const prefix = new Uint8Array(16);
  prefix.set(new TextEncoder().encode(MAGIC));
  const view = new DataView(prefix.buffer);
  view.setUint32(8, header.length, true);
  let crc = crc32(header);
  crc = crc32(set.labels, crc);
  crc = crc32(set.images, crc);
  view.setUint32(12, crc, true);
  return [prefix, header, set.labels, set.images];
}

/** The file of a prepared set in the cache folder; a DataFormatError naming the command that prepares it where it is missing. */
export function preparedSvhnFile(cacheDir: string, set: "train" | "valid" | "test"): string {
  const path = join(svhnPreparedDir(cacheDir), `${set}.u8`);
  if (!existsSync(path))
    throw new DataFormatError(
      `SVHN is not prepared: ${path} is missing`,
      "run `binaryconnect data svhn --from DIR` first, with the folder of the official format-2 files",
    );
  return path;
}

function decodeSet(path: string, name: string): SvhnSet {
  const bytes = readFileSync(path);
  const fail = (why: string): never => {
    throw new DataFormatError(`${path}: ${why}`, "run `binaryconnect data svhn --from DIR` again");
  };
  if (bytes.length < 16 || bytes.subarray(0, 8).toString() !== MAGIC) fail("not a prepared SVHN set");
  const length = bytes.readUInt32LE(8);
  const header = JSON.parse(bytes.subarray(16, 16 + length).toString()) as {
    version: number;
    set: string;
    n: number;
    features: number;
  };
  if (header.version !== SVHN_PREP_VERSION || header.set !== name)
    fail(`expected the ${name} set of version ${SVHN_PREP_VERSION}, found ${header.set} v${header.version}`);
  const start = 16 + length,
    n = header.n;
  if (bytes.length !== start + n * (1 + SVHN_IMAGE_BYTES))
    fail(`${bytes.length} bytes, expected ${start + n * (1 + SVHN_IMAGE_BYTES)} (truncated?)`);
  if (crc32(bytes.subarray(16)) !== bytes.readUInt32LE(12)) fail("checksum mismatch: the file is corrupt");
  return { labels: bytes.subarray(start, start + n), images: bytes.subarray(start + n), n };
}

/**
 * An SVHN set as training reads it: example i = GCN (scale 1) then LCN (7x7) of image i,
 * computed when a batch is gathered (`example`; x is empty). Shape [32, 32, 3], 10 classes,
 * marked preprocessed.
 */
export function preprocessedSvhn(set: SvhnSet, keep?: number): Dataset {
  const n = keep ?? set.n,
    F = SVHN_IMAGE_BYTES;
  return {
    x: new Float32Array(0),
    y: Float32Array.from(set.labels.subarray(0, n)),
    n,
    features: F,
    shape: [32, 32, 3],
    classes: 10,
    preprocessed: true,
    example(i: number, out: Float32Array, offset: number): void {
      const row = out.subarray(offset, offset + F);
      for (let f = 0; f < F; f++) row[f] = set.images[i * F + f];
      globalContrastNormalize(row, 1, F, { scale: 1 });
      localContrastNormalize(row, 0, 32, 32, 3);
    },
  };
}

/** The prepared train / validation / test sets (see the top of this file). */
export function svhnSplits(
  cacheDir: string,
  limit: SplitLimit = {},
): { train: Dataset; validation: Dataset; test: Dataset } {
  const sets = {
    train: decodeSet(preparedSvhnFile(cacheDir, "train"), "train"),
    validation: decodeSet(preparedSvhnFile(cacheDir, "valid"), "valid"),
    test: decodeSet(preparedSvhnFile(cacheDir, "test"), "test"),
  };
  const keep = (name: keyof typeof sets): number | undefined => {
    const k = limit[name];
    if (k !== undefined && !(Number.isInteger(k) && k >= 0 && k <= sets[name].n))
      throw new DataFormatError(`SVHN: the ${name} split has ${sets[name].n} images, cannot keep ${k}`);
    return k;
  };
  return {
    train: preprocessedSvhn(sets.train, keep("train")),
    validation: preprocessedSvhn(sets.validation, keep("validation")),
    test: preprocessedSvhn(sets.test, keep("test")),
  };
}
