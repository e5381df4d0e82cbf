import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DataFormatError, OptionError } from "../src/core/errors.js";
import {
  CIFAR100_COARSE_LABELS,
  CIFAR100_FINE_LABELS,
  CIFAR100_RECORD_BYTES,
  loadCifar100,
  parseCifar100,
} from "../src/data/cifar100.js";

/** Records in the official layout: coarse byte, fine byte, then R, G, B planes of 32 x 32. Pixel (c, p) of record i = (i * 7 + c * 50 + p) % 256. */
function records(labels: [coarse: number, fine: number][]): Uint8Array {
  const out = new Uint8Array(labels.length * CIFAR100_RECORD_BYTES);
  labels.forEach(([coarse, fine], i) => {
    const at = i * CIFAR100_RECORD_BYTES;
    out[at] = coarse;
    out[at + 1] = fine;
    for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) out[at + 2 + c * 1024 + p] = (i * 7 + c * 50 + p) % 256;
  });
  return out;
}

describe("CIFAR-100 binary", () => {
  it("has the official class lists: 100 fine names in alphabetical order, 20 coarse", () => {
    expect(CIFAR100_FINE_LABELS.length).toBe(100);
    expect([...CIFAR100_FINE_LABELS].sort()).toEqual([...CIFAR100_FINE_LABELS]);
    expect([CIFAR100_FINE_LABELS[0], CIFAR100_FINE_LABELS[39], CIFAR100_FINE_LABELS[99]]).toEqual([
      "apple",
      "keyboard",
      "worm",
    ]);
    expect(CIFAR100_COARSE_LABELS.length).toBe(20);
    expect([CIFAR100_COARSE_LABELS[0], CIFAR100_COARSE_LABELS[12], CIFAR100_COARSE_LABELS[19]]).toEqual([
      "aquatic_mammals",
      "medium_mammals",
      "vehicles_2",
    ]);
  });

  it("parses the fine or coarse labels and places the planes' pixels in NHWC", () => {
    const bytes = records([
      [4, 30],
      [19, 99],
      [0, 0],
    ]); // dolphin (aquatic mammals), worm (vehicles_2 here: any pair is accepted), apple
    const fine = parseCifar100(bytes, "train.bin");
    expect([fine.n, fine.shape, fine.features, fine.classes]).toEqual([3, [32, 32, 3], 3072, 100]);
    expect(Array.from(fine.y)).toEqual([30, 99, 0]);
    expect(fine.classNames?.[30]).toBe("dolphin");
    const coarse = parseCifar100(bytes, "train.bin", { labels: "coarse" });
    expect([coarse.classes, Array.from(coarse.y), coarse.classNames?.[4]]).toEqual([
      20,
      [4, 19, 0],
      "fruit_and_vegetables",
    ]);
    // x[i, row, col, c] = plane c, pixel row * 32 + col of record i
    const at = (i: number, row: number, col: number, c: number) => fine.x[i * 3072 + (row * 32 + col) * 3 + c];
    for (const [i, row, col, c] of [
      [0, 0, 0, 0],
      [0, 0, 0, 2],
      [1, 0, 1, 1],
      [2, 31, 31, 2],
      [1, 5, 9, 0],
    ]) {
      expect(at(i, row, col, c), `record ${i} (${row}, ${col}) channel ${c}`).toBe(
        (i * 7 + c * 50 + row * 32 + col) % 256,
      );
    }
    expect(Array.from(coarse.x)).toEqual(Array.from(fine.x));
  });

  it("rejects sizes that are not whole records and labels out of range", () => {
    const bytes = records([
      [1, 2],
      [3, 4],
    ]);
    expect(() => parseCifar100(bytes.subarray(0, bytes.length - 1), "train.bin")).toThrow(DataFormatError);
    expect(() => parseCifar100(bytes.subarray(0, bytes.length - 1), "train.bin")).toThrow(
      /train\.bin: expected a whole number of 3074-byte CIFAR-100 records, found 6147 bytes \(1 records and 3073 bytes over\)/,
    );
    expect(() => parseCifar100(new Uint8Array(0), "t")).toThrow(/found 0 bytes/);
    expect(() =>
      parseCifar100(
        records([
          [0, 0],
          [20, 5],
        ]),
        "test.bin",
      ),
    ).toThrow(/test\.bin: record 1 has coarse label 20 and fine label 5, expected 0\.\.19 and 0\.\.99/);
    expect(() => parseCifar100(records([[0, 100]]), "test.bin", { labels: "coarse" })).toThrow(/fine label 100/);
    expect(() => parseCifar100(bytes, "t", { labels: "super" as never })).toThrow(OptionError);
  });

  it("loads train.bin and test.bin from the folder or the cifar-100-binary folder under it", async () => {
    const root = mkdtempSync(join(tmpdir(), "bc-c100-"));
    mkdirSync(join(root, "cifar-100-binary"));
    writeFileSync(
      join(root, "cifar-100-binary", "train.bin"),
      records([
        [1, 10],
        [2, 20],
        [3, 30],
      ]),
    );
    writeFileSync(join(root, "cifar-100-binary", "test.bin"), records([[5, 50]]));
    const { train, test } = await loadCifar100(root, { labels: "coarse" });
    expect([train.n, test.n, Array.from(train.y), Array.from(test.y), train.classes]).toEqual([
      3,
      1,
      [1, 2, 3],
      [5],
      20,
    ]);
    const inner = await loadCifar100(join(root, "cifar-100-binary"));
    expect([Array.from(inner.train.y), inner.test.classNames?.[50]]).toEqual([[10, 20, 30], "mouse"]);
    writeFileSync(join(root, "cifar-100-binary", "test.bin"), records([[5, 50]]).subarray(0, 3000));
    await expect(loadCifar100(root)).rejects.toThrow(
      /cifar-100-binary[\\/]test\.bin: expected a whole number of 3074-byte/,
    );
    await expect(loadCifar100(join(root, "none"))).rejects.toThrow(
      /expected train\.bin and test\.bin in .*none or .*cifar-100-binary, found no train\.bin/,
    );
    const onlyTrain = mkdtempSync(join(tmpdir(), "bc-c100-"));
    writeFileSync(join(onlyTrain, "train.bin"), records([[1, 1]]));
    await expect(loadCifar100(onlyTrain)).rejects.toThrow(/test\.bin next to train\.bin, found no such file/);
  });
});
