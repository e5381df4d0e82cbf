import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CheckpointError } from "../src/core/errors.js";
import { decodeCheckpoint, encodeCheckpoint, loadCheckpoint, saveCheckpoint } from "../src/train/checkpoint.js";

const contents = {
  meta: { kind: "test", epoch: 3 },
  tensors: [
    { name: "a", shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
    { name: "b", shape: [1], data: Float32Array.from([-0.5]) },
  ],
};

describe("checkpoint format", () => {
  it("round-trips metadata and tensors", () => {
    const back = decodeCheckpoint<typeof contents.meta>(encodeCheckpoint(contents), "mem");
    expect(back.meta).toEqual(contents.meta);
    expect(back.tensors.map((t) => [t.name, t.shape, Array.from(t.data)])).toEqual(
      contents.tensors.map((t) => [t.name, t.shape, Array.from(t.data)]),
    );
  });

  it("rejects a wrong magic, another version, truncation and corruption with clear messages", () => {
    const good = encodeCheckpoint(contents);
    const wrongMagic = good.slice();
    wrongMagic[0] = 0x58;
    expect(() => decodeCheckpoint(wrongMagic, "f")).toThrow(
      /not a binaryconnect checkpoint: expected magic "BCONNECT"/,
    );
    const otherVersion = good.slice();
    new DataView(otherVersion.buffer).setUint32(8, 99, true);
    expect(() => decodeCheckpoint(otherVersion, "f")).toThrow(
      /format version 99, but this binaryconnect reads versions 1 and 2/,
    );
    expect(() => decodeCheckpoint(good.subarray(0, 10), "f")).toThrow(
      /shorter than the 20-byte header: truncated or not a checkpoint\n {2}hint: pass a checkpoint\.bin, best\.bin or model file/,
    );
    expect(() => decodeCheckpoint(good.subarray(0, good.length - 4), "f")).toThrow(/checksum mismatch/);
    const flipped = good.slice();
    flipped[flipped.length - 1] ^= 1;
    expect(() => decodeCheckpoint(flipped, "f")).toThrow(CheckpointError);
  });

  it("writes atomically: no temporary file is left, and a missing file names the fix", () => {
    const dir = mkdtempSync(join(tmpdir(), "bc-ckpt-"));
    const path = join(dir, "c.bin");
    writeFileSync(path, "old");
    saveCheckpoint(path, contents);
    expect(readdirSync(dir)).toEqual(["c.bin"]);
    expect(loadCheckpoint(path).meta).toEqual(contents.meta);
    expect(readFileSync(path).subarray(0, 8).toString()).toBe("BCONNECT");
    expect(() => loadCheckpoint(join(dir, "none.bin"))).toThrow(/no checkpoint at .*none\.bin[\s\S]*hint: train first/);
  });
});
