/**
 * SVHN: the MAT-file reader on small format-2 files written by scipy.io.savemat (an independent
 * tool; test/fixtures/svhn/make_fixtures.py), compressed and not, with y as uint8 and as
 * double; what it rejects and why; the split and the cache of `binaryconnect data svhn`; and
 * the per-example GCN + LCN.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DataFormatError } from "../src/core/errors.js";
import { md5Hex } from "../src/data/cache.js";
import { localContrastNormalize } from "../src/data/lcn.js";
import { readMat } from "../src/data/mat.js";
import { globalContrastNormalize } from "../src/data/preprocess.js";
import { parseSvhnMat } from "../src/data/svhn.js";
import { prepareSvhn, svhnPreparedDir, svhnSplits } from "../src/data/svhnPrepare.js";

const FIXTURES = new URL("./fixtures/svhn/", import.meta.url).pathname;
const expected = JSON.parse(readFileSync(join(FIXTURES, "expected.json"), "utf8")) as {
  files: Record<string, { n: number; labels: number[]; nhwc_md5: string; pixels_i_row_col_channel_value: number[][] }>;
};
const bytes = (name: string) => new Uint8Array(readFileSync(join(FIXTURES, name)));

describe("the MAT-file reader on files written by scipy.io.savemat", () => {
  for (const [name, want] of Object.entries(expected.files)) {
    it(`${name}: labels (10 -> 0), the images as NHWC bytes, and single pixels`, () => {
      const set = parseSvhnMat(bytes(name), name);
      expect(set.n).toBe(want.n);
      expect(Array.from(set.labels)).toEqual(want.labels);
      expect(md5Hex(set.images)).toBe(want.nhwc_md5);
      for (const [i, row, col, ch, value] of want.pixels_i_row_col_channel_value)
        expect(set.images[i * 3072 + (row * 32 + col) * 3 + ch]).toBe(value);
    });
  }

  it("reads the compressed elements (train, test) and the plain ones (extra; y stored as double)", () => {
    const train = readMat(bytes("train_32x32.mat"), "train"),
      extra = readMat(bytes("extra_32x32.mat"), "extra");
    expect(bytes("train_32x32.mat")[128]).toBe(15); // the first element is miCOMPRESSED
    expect(bytes("extra_32x32.mat")[128]).toBe(14); // miMATRIX
    expect(train.get("X")!.dims).toEqual([32, 32, 3, 30]);
    expect(train.get("X")!.className).toBe("uint8");
    expect(extra.get("y")!.className).toBe("double");
    expect(extra.get("y")!.data).toBeInstanceOf(Float64Array);
  });

  it("rejects what it cannot read, saying why", () => {
    const reject = (data: Uint8Array, pattern: RegExp) => {
      expect(() => parseSvhnMat(data, "f.mat")).toThrow(DataFormatError);
      expect(() => parseSvhnMat(data, "f.mat")).toThrow(pattern);
    };
    reject(bytes("bad_labels.mat"), /y\(1\) = 0, expected a label 1\.\.10/);
    reject(bytes("no_x.mat"), /expected variables X and y \(SVHN format 2\), found images, y/);
    reject(bytes("cell.mat"), /"X" is a cell array; this reader reads numeric arrays only/);
    const train = bytes("train_32x32.mat");
    reject(train.subarray(0, 5000), /truncated/);
    const v73 = train.slice();
    v73.set(new TextEncoder().encode("MATLAB 7.3 MAT-file, Platform: GLNXA64"), 0);
    reject(v73, /MATLAB 7\.3 MAT-file \(HDF5\)/);
    reject(new TextEncoder().encode("not a mat file at all ".repeat(10)), /not a MATLAB 5 MAT-file/);
    const corrupt = train.slice();
    corrupt.fill(0x55, 200, 400); // inside the zlib stream
    reject(corrupt, /does not decompress|truncated/);
  });
});

describe("binaryconnect data svhn: split, cache, per-example preprocessing", () => {
  const cache = mkdtempSync(join(tmpdir(), "bc-svhn-"));
  const from = mkdtempSync(join(tmpdir(), "bc-svhn-from-"));
  for (const f of ["train_32x32.mat", "test_32x32.mat", "extra_32x32.mat"])
    copyFileSync(join(FIXTURES, f), join(from, f));

  it("splits train + extra into train and a class-balanced validation set, keeps test, and preprocesses each example", () => {
    const dir = prepareSvhn({ cacheDir: cache, from, validPerClass: { train: 1, extra: 1 } });
    expect(dir).toBe(svhnPreparedDir(cache));
    const s = svhnSplits(cache);
    expect([s.train.n, s.validation.n, s.test.n]).toEqual([30 + 20 - 20, 20, 10]);
    const perClass = new Array(10).fill(0);
    for (const label of s.validation.y) perClass[label]++;
    expect(perClass).toEqual(new Array(10).fill(2));
    // every image lands in exactly one of train / validation (by content)
    const digests = (set: typeof s.train) =>
      Array.from({ length: set.n }, (_, i) => {
        const out = new Float32Array(3072);
        set.example!(i, out, 0);
        return md5Hex(new Uint8Array(out.buffer));
      });
    expect(new Set([...digests(s.train), ...digests(s.validation)]).size).toBe(50);
    // example i = GCN (scale 1) then LCN of test image i
    const raw = parseSvhnMat(bytes("test_32x32.mat"), "test");
    const want = Float32Array.from(raw.images.subarray(3 * 3072, 4 * 3072));
    globalContrastNormalize(want, 1, 3072, { scale: 1 });
    localContrastNormalize(want, 0, 32, 32, 3);
    const got = new Float32Array(2 * 3072);
    s.test.example!(3, got, 3072);
    expect(Array.from(got.subarray(3072))).toEqual(Array.from(want));
    expect(Array.from(s.test.y)).toEqual(Array.from(raw.labels));
    expect(svhnSplits(cache, { train: 7 }).train.n).toBe(7);
  });

  it("refuses a corrupt cache file and a missing source file", () => {
    const path = join(svhnPreparedDir(cache), "test.u8");
    const b = readFileSync(path);
    b[b.length - 1] ^= 1;
    writeFileSync(path, b);
    expect(() => svhnSplits(cache)).toThrow(
      /test\.u8: checksum mismatch[\s\S]*hint: run `binaryconnect data svhn --from DIR` again/,
    );
    expect(() => prepareSvhn({ cacheDir: cache, from: `${tmpdir()}/nothing-here` })).toThrow(
      /train_32x32\.mat is missing/,
    );
  });
});
