/** Prepared CIFAR-10 sets written by hand, for the tests of the loaders (test/cifar10.test.ts, test/loaders.test.ts). */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeCheckpoint } from "../src/train/checkpoint.js";

/**
 * Writes `dir`/SET.bin as `binaryconnect data cifar10` leaves it: `n` rows of 3072 values (value
 * `pixel(i)` at flat index i, NHWC 32x32x3) and the labels i % 10, under the prepared sets' header.
 */
export function writePreparedCifar10(
  dir: string,
  set: "train" | "test",
  n: number,
  pixel: (i: number) => number,
): void {
  const meta = {
    kind: "cifar10-preprocessed",
    version: 1,
    set,
    gcnScale: 55,
    zcaFilterBias: 0.1,
    layout: "NHWC 32x32x3",
    sources: {},
  };
  const x = Float32Array.from({ length: n * 3072 }, (_, i) => pixel(i)),
    y = Float32Array.from({ length: n }, (_, i) => i % 10);
  writeFileSync(
    join(dir, `${set}.bin`),
    encodeCheckpoint({
      meta,
      tensors: [
        { name: "x", shape: [n, 3072], data: x },
        { name: "y", shape: [n], data: y },
      ],
    }),
  );
}
