import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { DataFormatError, StorageError } from "../src/core/errors.js";
import { decodeIdx, parseIdx, readIdxFile } from "../src/data/idx.js";
import { thrownBy } from "./thrown.js";

/** Builds IDX bytes by hand: magic (0, 0, type, ndims), big-endian uint32 dims, data. */
function idxBytes(dims: number[], data: ArrayLike<number>, type = 0x08): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  header[2] = type;
  header[3] = dims.length;
  dims.forEach((d, i) => {
    view.setUint32(4 + 4 * i, d, false);
  });
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(Array.from(data), header.length);
  return out;
}

/** Runs `fn` and returns the DataFormatError it throws (fails the test otherwise). */
const dataError = (fn: () => unknown): DataFormatError => thrownBy(DataFormatError, fn);

describe("parseIdx", () => {
  const images = idxBytes([2, 2, 3], [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);

  it("parses a plain 3-d unsigned-byte file", () => {
    const { dims, data } = parseIdx(images, "x.idx");
    expect(dims).toEqual([2, 2, 3]);
    expect(Array.from(data)).toEqual([0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
  });

  it("parses a 1-d file and a file with a zero dimension", () => {
    expect(parseIdx(idxBytes([3], [7, 2, 1]), "l").dims).toEqual([3]);
    expect(Array.from(parseIdx(idxBytes([3], [7, 2, 1]), "l").data)).toEqual([7, 2, 1]);
    expect(parseIdx(idxBytes([0, 28, 28], []), "e").data.length).toBe(0);
  });

  it("reads big-endian sizes above 255", () => {
    const big = parseIdx(idxBytes([300], new Uint8Array(300).fill(9)), "b");
    expect(big.dims).toEqual([300]);
    expect(big.data.length).toBe(300);
  });

  it("parses gzipped bytes to the same result", () => {
    const gz = gzipSync(images);
    expect(gz[0]).toBe(0x1f);
    const plain = parseIdx(images, "x");
    const unzipped = parseIdx(gz, "x.gz");
    expect(unzipped.dims).toEqual(plain.dims);
    expect(Array.from(unzipped.data)).toEqual(Array.from(plain.data));
  });

  it("rejects a truncated data section, saying expected and found", () => {
    const err = dataError(() => parseIdx(images.subarray(0, images.length - 5), "cut-images"));
    expect(err.message).toContain("cut-images");
    expect(err.message).toContain("truncated");
    expect(err.message).toContain("2 x 2 x 3 declare 12 data bytes");
    expect(err.message).toContain("found 7 (5 missing)");
    expect(err.hint).toBeDefined();
  });

  it("rejects a truncated header", () => {
    expect(dataError(() => parseIdx(new Uint8Array([0, 0, 8]), "tiny")).message).toMatch(
      /tiny: expected an IDX header of at least 4 bytes, found 3 byte\(s\)/,
    );
    const err = dataError(() => parseIdx(images.subarray(0, 10), "hdr"));
    expect(err.message).toContain("hdr: expected a 16-byte IDX header");
    expect(err.message).toContain("found 10 byte(s)");
  });

  it("rejects a truncated gzipped file", () => {
    const gz = gzipSync(images);
    const err = dataError(() => parseIdx(gz.subarray(0, gz.length - 8), "cut.gz"));
    expect(err.message).toContain("cut.gz");
    expect(err.message).toContain("cannot be decompressed");
  });

  it("rejects extra bytes after the data", () => {
    const extra = new Uint8Array([...images, 1, 2, 3]);
    const err = dataError(() => parseIdx(extra, "long"));
    expect(err.message).toContain("long");
    expect(err.message).toContain("declare 12 data bytes");
    expect(err.message).toContain("found 15 (3 extra bytes)");
  });

  it("rejects a wrong magic", () => {
    const bad = images.slice();
    bad[0] = 0x12;
    bad[1] = 0x34;
    const err = dataError(() => parseIdx(bad, "notidx"));
    expect(err.message).toContain("notidx: not an IDX file");
    expect(err.message).toContain("expected the magic to start with bytes 0x00 0x00, found 0x12 0x34");
  });

  it("rejects a type byte other than 0x08, naming the type", () => {
    const err = dataError(() => parseIdx(idxBytes([1], [0, 0, 0, 0], 0x0d), "floats"));
    expect(err.message).toContain("floats: unsupported IDX element type 0x0d (float32)");
    expect(err.message).toContain("expected 0x08 (unsigned byte)");
    const unknown = dataError(() => parseIdx(idxBytes([1], [0], 0x42), "odd"));
    expect(unknown.message).toContain("0x42 (not a type defined by the IDX format)");
  });

  it("rejects 0 or more than 4 dimensions", () => {
    expect(dataError(() => parseIdx(idxBytes([], []), "d0")).message).toContain(
      "d0: expected 1..4 dimensions in the IDX magic (byte 3), found 0",
    );
    expect(dataError(() => parseIdx(idxBytes([1, 1, 1, 1, 1], [0]), "d5")).message).toContain("found 5");
  });

  it("decodeIdx (the pure parser) refuses gzip with a hint", () => {
    const err = dataError(() => decodeIdx(gzipSync(images), "z.gz"));
    expect(err.message).toContain("z.gz: expected uncompressed IDX bytes, found gzip data");
    expect(err.hint).toContain("parseIdx");
  });
});

describe("readIdxFile", () => {
  const dir = mkdtempSync(join(tmpdir(), "bc-idx-"));

  it("reads plain and gzipped files", async () => {
    const bytes = idxBytes([2, 2], [1, 2, 3, 4]);
    writeFileSync(join(dir, "a-idx2-ubyte"), bytes);
    writeFileSync(join(dir, "a-idx2-ubyte.gz"), gzipSync(bytes));
    for (const name of ["a-idx2-ubyte", "a-idx2-ubyte.gz"]) {
      const { dims, data } = await readIdxFile(join(dir, name));
      expect(dims).toEqual([2, 2]);
      expect(Array.from(data)).toEqual([1, 2, 3, 4]);
    }
  });

  it("names the path of a missing file and gives a hint", async () => {
    const path = join(dir, "nope-idx1-ubyte");
    const err = await readIdxFile(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).message).toContain(`IDX file not found: ${path}`);
    expect((err as StorageError).hint).toContain("train-images-idx3-ubyte");
    expect((err as StorageError).path).toBe(path);
    expect((err as StorageError).code).toBe("ENOENT");
  });

  it("names the file in format errors", async () => {
    const path = join(dir, "short-idx1-ubyte");
    writeFileSync(path, idxBytes([5], [1, 2]));
    await expect(readIdxFile(path)).rejects.toThrow(`${path}: the file is truncated`);
  });
});
