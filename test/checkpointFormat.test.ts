/**
 * The checkpoint container, version 2: its checksum covers every byte after the magic (the
 * version and the header length too), version 1 files still load, and whatever a file's bytes,
 * decoding returns its contents or throws a CheckpointError - a fuzz test of random mutations
 * of a training checkpoint of each version, as src/format/format.test.ts does for .bcnet files.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { crc32 as zlibCrc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import { modelFromBytes } from "../src/api/persist.js";
import { CheckpointError } from "../src/core/errors.js";
import { Xoshiro128 } from "../src/core/rng.js";
import {
  checkpointFromBytes,
  decodeCheckpoint,
  encodeCheckpoint,
  type CheckpointContents,
} from "../src/train/checkpoint.js";
import { trainingCheckpoint, type CheckpointMeta } from "../src/train/runFolder.js";

const FIXTURE = join(import.meta.dirname, "fixtures", "v0.1-runs", "cnn-stoch", "checkpoint.bin");
/** A training checkpoint of binaryconnect 0.1 (format version 1; 87 KB). */
const v1 = new Uint8Array(readFileSync(FIXTURE));
const fixture = checkpointFromBytes<CheckpointMeta>(v1, "v1");
/** The same run as this version writes it: format version 2, with the records of its epochs and an epoch stopped part way. */
const v2 = encodeCheckpoint<CheckpointMeta>(
  {
    meta: {
      ...fixture.meta,
      records: [1, 2].map((epoch) => ({
        epoch,
        train_loss: 0.5 / epoch,
        train_error: 0.1,
        val_loss: 0.4,
        val_error: 0.09,
        test_error: 0.08,
        best_epoch: epoch,
        lr: 0.003,
      })),
      partial: { epoch: 3, batch: 7, lossSum: 12.5, errors: 3, trainSeconds: 1.5, seconds: 1.75 },
    },
    tensors: fixture.tensors,
  },
  zlibCrc32,
);

/** The CRC of version 2, for mutations that keep the checksum right (so that the checks after it run). */
function withCrc(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint32(16, 0, true);
  view.setUint32(16, zlibCrc32(bytes.subarray(8)), true);
  return bytes;
}

/** What every reader of a checkpoint does: decode it, check it is a training checkpoint, load it as a model. */
function readAll(bytes: Uint8Array): void {
  const ckpt = checkpointFromBytes<CheckpointMeta>(bytes, "c.bin");
  trainingCheckpoint(ckpt, "c.bin");
  modelFromBytes(bytes, "c.bin", { backend: "reference" });
}

const errorOf = (f: () => void): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  return null;
};

describe("checkpoint format version 2", () => {
  it("round-trips; the same contents give the same bytes", () => {
    const back = checkpointFromBytes<CheckpointMeta>(v2, "v2");
    expect(back.meta).toEqual({ ...fixture.meta, records: expect.any(Array), partial: expect.any(Object) });
    expect(back.tensors.map((t) => [t.name, t.shape, Array.from(t.data)])).toEqual(
      fixture.tensors.map((t) => [t.name, t.shape, Array.from(t.data)]),
    );
    expect(Buffer.from(encodeCheckpoint(back, zlibCrc32)).equals(Buffer.from(v2))).toBe(true);
    // the browser's CRC (src/format/crc32.ts) reads and writes the same bytes
    expect(Buffer.from(encodeCheckpoint(back)).equals(Buffer.from(v2))).toBe(true);
    expect(decodeCheckpoint(v2, "v2").meta).toEqual(back.meta);
    expect(new DataView(v2.buffer).getUint32(8, true)).toBe(2);
  });

  it("every byte after the magic is covered by the checksum: a flip of the version, the header length or the CRC is a CheckpointError", () => {
    for (let at = 8; at < 20; at++) {
      for (const bit of [0, 1, 7]) {
        const b = v2.slice();
        b[at] ^= 1 << bit;
        const e = errorOf(() => readAll(b));
        expect(e, `byte ${at} bit ${bit}`).toBeInstanceOf(CheckpointError);
        if (at >= 12) expect((e as Error).message, `byte ${at}`).toMatch(/checksum mismatch/);
      }
    }
    // a version 2 file marked version 1 fails version 1's checksum (which leaves out the prefix)
    const relabeled = v2.slice();
    new DataView(relabeled.buffer).setUint32(8, 1, true);
    expect(() => readAll(relabeled)).toThrow(/checksum mismatch/);
  });

  it("version 1 files (binaryconnect 0.1) still load; a flipped header length there is a CheckpointError, not a SyntaxError", () => {
    expect(fixture.meta.epochsDone).toBe(2);
    readAll(v1);
    for (const at of [12, 13, 14, 15]) {
      for (let bit = 0; bit < 8; bit++) {
        const b = v1.slice();
        b[at] ^= 1 << bit;
        expect(
          errorOf(() => readAll(b)),
          `byte ${at} bit ${bit}`,
        ).toBeInstanceOf(CheckpointError);
      }
    }
  });

  for (const [name, file, mutations] of [
    ["version 2 (this version's training checkpoint)", v2, 3000],
    ["version 1 (binaryconnect 0.1's)", v1, 2000],
  ] as const) {
    it(`fuzz: ${mutations.toLocaleString("en-US")} random mutations of a ${name} give a CheckpointError each, never another exception`, () => {
      const rng = new Xoshiro128(20251204);
      const int = (n: number) => Math.floor(rng.next() * n);
      const headerEnd = 20 + new DataView(file.buffer, file.byteOffset).getUint32(12, true);
      const kinds = ["truncated", "bit flips", "random bytes", "prefix word", "header bytes", "appended"] as const;
      const counts: Record<string, number> = Object.fromEntries(kinds.map((k) => [k, 0]));
      let unchanged = 0;
      const started = performance.now();
      for (let i = 0; i < mutations; i++) {
        let b: Uint8Array = file.slice();
        const kind = kinds[int(kinds.length)];
        if (kind === "truncated") b = b.subarray(0, int(b.length));
        else if (kind === "bit flips") for (let j = 0, n = 1 + int(4); j < n; j++) b[int(b.length)] ^= 1 << int(8);
        else if (kind === "random bytes") for (let j = 0, n = 1 + int(8); j < n; j++) b[int(b.length)] = int(256);
        else if (kind === "prefix word")
          new DataView(b.buffer).setUint32(4 * (2 + int(3)), rng.next() < 0.5 ? int(1 << 16) : rng.nextUint32(), true);
        else if (kind === "header bytes")
          for (let j = 0, n = 1 + int(8); j < n; j++) b[20 + int(headerEnd - 20)] = int(256);
        else b = Uint8Array.from([...b, ...Array.from({ length: 1 + int(8) }, () => int(256))]);
        if (b.length === file.length && b.every((x, k) => x === file[k])) {
          unchanged++;
          continue;
        }
        const e = errorOf(() => readAll(b));
        if (!(e instanceof CheckpointError))
          throw new Error(`mutation ${i} (${kind}) gave ${e === null ? "no error" : String(e)}`);
        counts[kind]++;
      }
      expect(performance.now() - started).toBeLessThan(30_000);
      for (const k of kinds) expect(counts[k], JSON.stringify(counts)).toBeGreaterThan(mutations / 10);
      console.log(
        `checkpoint fuzz, ${name}: ${mutations - unchanged} mutated files, each a CheckpointError (${JSON.stringify(counts)}); ${unchanged} mutations changed nothing`,
      );
    });
  }

  // files whose checksum was made right again (crafted, not damaged): the container's and the training checkpoint's checks
  it("fuzz: 2,000 mutations of the header with the checksum made right again give a CheckpointError or well-formed contents, never another exception", () => {
    const rng = new Xoshiro128(7);
    const int = (n: number) => Math.floor(rng.next() * n);
    const headerLength = new DataView(v2.buffer).getUint32(12, true);
    const header = new TextDecoder().decode(v2.subarray(20, 20 + headerLength));
    const counts = { error: 0, decoded: 0 };
    const edits: ((h: string) => string)[] = [
      (h) => {
        const at = int(h.length);
        return h.slice(0, at) + String.fromCharCode(32 + int(95)) + h.slice(at + 1);
      },
      (h) => h.replace(/\d+/g, (d) => (rng.next() < 0.05 ? String(int(2) ? -1 : 2 ** (20 + int(40))) : d)),
      (h) =>
        h.replace(/"(shape|offset|name|tensors|meta|epochsDone|step|best|records|partial|batch|epoch)"/g, (k) =>
          rng.next() < 0.1 ? `"x${k.slice(1)}` : k,
        ),
      (h) => h.replace(/\[[^[\]]*\]/g, (a) => (rng.next() < 0.05 ? (int(2) ? "null" : "{}") : a)),
      (h) => h.slice(0, int(h.length)),
    ];
    for (let i = 0; i < 2000; i++) {
      const text = new TextEncoder().encode(edits[int(edits.length)](header));
      const b = new Uint8Array(
        Math.ceil((20 + text.length) / 4) * 4 + (v2.length - Math.ceil((20 + headerLength) / 4) * 4),
      );
      b.set(v2.subarray(0, 20));
      b.set(text, 20);
      b.set(v2.subarray(Math.ceil((20 + headerLength) / 4) * 4), Math.ceil((20 + text.length) / 4) * 4);
      new DataView(b.buffer).setUint32(12, text.length, true);
      withCrc(b);
      let decoded: CheckpointContents<CheckpointMeta> | undefined;
      try {
        decoded = trainingCheckpoint(checkpointFromBytes<CheckpointMeta>(b, "c.bin"), "c.bin");
      } catch (e) {
        if (!(e instanceof CheckpointError)) throw new Error(`edit ${i} gave ${String(e)}`);
        counts.error++;
        continue;
      }
      for (const t of decoded.tensors) expect(t.data.length).toBe(t.shape.reduce((x, y) => x * y, 1));
      counts.decoded++;
    }
    expect(counts.error).toBeGreaterThan(500);
    expect(counts.decoded).toBeGreaterThan(50);
    console.log(`checkpoint fuzz, header edits with a right checksum: ${JSON.stringify(counts)}`);
  });
});
