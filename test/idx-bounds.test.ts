/**
 * The IDX readers' bounds: gzip data is decompressed no further than its IDX header declares
 * (a header of 10 x 28 x 28 followed by 100 MB of zeros is refused quickly, in bounded memory),
 * and only regular files are read (a FIFO named like an MNIST file is an error, not a hang).
 */
import { execSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGzip, gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { DataFormatError } from "../src/core/errors.js";
import { parseIdx, readIdxFile } from "../src/data/idx.js";
import { loadMnist } from "../src/data/mnist.js";

function idxHeader(dims: number[]): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => {
    new DataView(header.buffer).setUint32(4 + 4 * i, d, false);
  });
  return header;
}

function idxBytes(dims: number[], fill: (i: number) => number): Uint8Array {
  const header = idxHeader(dims);
  const out = new Uint8Array(header.length + dims.reduce((a, d) => a * d, 1));
  out.set(header);
  for (let i = header.length; i < out.length; i++) out[i] = fill(i - header.length);
  return out;
}

/** gzip of `head` followed by `zeros` zero bytes, compressed 1 MiB at a time (the zeros are never in memory at once). */
async function gzipWithZeros(head: Uint8Array, zeros: number): Promise<Buffer> {
  const gz = createGzip();
  const out: Buffer[] = [];
  gz.on("data", (c: Buffer) => out.push(c));
  const done = new Promise((resolve, reject) => {
    gz.on("end", resolve);
    gz.on("error", reject);
  });
  const write = (b: Uint8Array) =>
    new Promise<void>((resolve) => (gz.write(b) ? resolve() : gz.once("drain", () => resolve())));
  await write(head);
  const chunk = new Uint8Array(1 << 20);
  for (let left = zeros; left > 0; left -= chunk.length) await write(chunk.subarray(0, Math.min(chunk.length, left)));
  gz.end();
  await done;
  return Buffer.concat(out);
}

const dir = mkdtempSync(join(tmpdir(), "bc-idx-bounds-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** RSS growth (bytes) and milliseconds of an async call that must reject with a DataFormatError. */
async function measureRejection(
  fn: () => Promise<unknown>,
): Promise<{ err: DataFormatError; grew: number; ms: number }> {
  const before = process.memoryUsage().rss,
    started = performance.now();
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const err = await fn().then(
    () => null,
    (e: unknown) => e,
  );
  clearInterval(timer);
  const ms = performance.now() - started;
  peak = Math.max(peak, process.memoryUsage().rss);
  expect(err).toBeInstanceOf(DataFormatError);
  return { err: err as DataFormatError, grew: peak - before, ms };
}

describe("gzip bounded by the IDX header", () => {
  const zeros = 100 * 1000 * 1000;

  it("a 10 x 28 x 28 header followed by 100 MB of zeros is refused quickly with bounded memory (file and bytes)", async () => {
    const gz = await gzipWithZeros(idxHeader([10, 28, 28]), zeros);
    expect(gz.length).toBeLessThan(200_000);
    const path = join(dir, "bomb-idx3-ubyte.gz");
    writeFileSync(path, gz);

    const file = await measureRejection(() => readIdxFile(path));
    expect(file.err.message).toContain(
      `${path}: dimensions 10 x 28 x 28 declare 7840 data bytes after the 16-byte header, but the gzip data decompresses to more`,
    );
    expect(file.err.hint).toBeDefined();
    expect(file.ms).toBeLessThan(2000);
    expect(file.grew).toBeLessThan(30 * 1024 * 1024);

    const bytes = await measureRejection(async () => parseIdx(gz, "bomb.gz"));
    expect(bytes.err.message).toContain("bomb.gz: dimensions 10 x 28 x 28 declare 7840 data bytes");
    expect(bytes.ms).toBeLessThan(2000);
    expect(bytes.grew).toBeLessThan(30 * 1024 * 1024);
    console.log(
      `100 MB of zeros behind a 10 x 28 x 28 header (${gz.length} bytes of gzip): readIdxFile refused in ${file.ms.toFixed(0)} ms, ` +
        `RSS +${(file.grew / 2 ** 20).toFixed(1)} MiB; parseIdx in ${bytes.ms.toFixed(0)} ms, RSS +${(bytes.grew / 2 ** 20).toFixed(1)} MiB`,
    );
  });

  it("one trailing byte past the declared data is an error too", async () => {
    const data = idxBytes([3, 28, 28], (i) => i % 251);
    const gz = gzipSync(new Uint8Array([...data, 0]));
    const path = join(dir, "one-more-idx3-ubyte.gz");
    writeFileSync(path, gz);
    await expect(readIdxFile(path)).rejects.toThrow(
      "declare 2352 data bytes after the 16-byte header, but the gzip data decompresses to more",
    );
    expect(() => parseIdx(gz, "one-more.gz")).toThrow("decompresses to more");
  });

  it("a header declaring more than the gzip data can hold is refused without decompressing it", async () => {
    const gz = gzipSync(new Uint8Array([...idxHeader([1_000_000, 28, 28]), 1, 2, 3]));
    const path = join(dir, "liar-idx3-ubyte.gz");
    writeFileSync(path, gz);
    await expect(readIdxFile(path)).rejects.toThrow(
      /the file is truncated: dimensions 1000000 x 28 x 28 declare 784000000 data bytes, but \d+ bytes of gzip data decompress to at most/,
    );
    expect(() => parseIdx(gz, "liar.gz")).toThrow("deflate expands at most 1032:1");
  });

  it("normal .gz files still load, the same as plain ones (a header split across chunks, a name in the gzip header)", async () => {
    const data = idxBytes([300, 28, 28], (i) => (i * 7) % 256);
    const plain = join(dir, "ok-idx3-ubyte"),
      gzPath = join(dir, "ok-idx3-ubyte.gz");
    writeFileSync(plain, data);
    writeFileSync(gzPath, gzipSync(data, { level: 9 }));
    const a = await readIdxFile(plain),
      b = await readIdxFile(gzPath),
      c = parseIdx(gzipSync(data, { level: 1 }), "x.gz");
    for (const r of [a, b, c]) {
      expect(r.dims).toEqual([300, 28, 28]);
      expect(Buffer.from(r.data).equals(Buffer.from(data.subarray(16)))).toBe(true);
    }
    // A gzip header with a file name (FNAME) and a stored block: the header found past them.
    const named = Buffer.concat([
      Buffer.from([0x1f, 0x8b, 8, 8, 0, 0, 0, 0, 0, 3]),
      Buffer.from("ok-idx3-ubyte\0"),
      gzipSync(data, { level: 0 }).subarray(10),
    ]);
    expect(parseIdx(named, "named.gz").dims).toEqual([300, 28, 28]);
    const labels = idxBytes([300], (i) => i % 10);
    writeFileSync(join(dir, "l-idx1-ubyte.gz"), gzipSync(labels));
    expect((await readIdxFile(join(dir, "l-idx1-ubyte.gz"))).data[13]).toBe(3);
  });

  it("truncated gzip data and a truncated header are still errors", async () => {
    const gz = gzipSync(idxBytes([30, 28, 28], (i) => i % 256));
    const path = join(dir, "cut-idx3-ubyte.gz");
    writeFileSync(path, gz.subarray(0, gz.length - 8));
    await expect(readIdxFile(path)).rejects.toThrow("cannot be decompressed");
    writeFileSync(path, gzipSync(new Uint8Array([0, 0, 8, 3, 0, 0])));
    await expect(readIdxFile(path)).rejects.toThrow("expected a 16-byte IDX header");
    expect(() => parseIdx(gzipSync(new Uint8Array([0, 0, 8, 3, 0, 0])), "h.gz")).toThrow(
      "expected a 16-byte IDX header",
    );
  });
});

describe("only regular files are read", () => {
  it("a FIFO named train-images-idx3-ubyte: readIdxFile and loadMnist reject at once", {
    timeout: 10_000,
  }, async () => {
    const data = join(dir, "fifo");
    mkdirSync(data);
    const fifo = join(data, "train-images-idx3-ubyte");
    execSync(`mkfifo "${fifo}"`);
    writeFileSync(
      join(data, "train-labels-idx1-ubyte"),
      idxBytes([2], (i) => i),
    );
    writeFileSync(
      join(data, "t10k-images-idx3-ubyte"),
      idxBytes([2, 28, 28], () => 0),
    );
    writeFileSync(
      join(data, "t10k-labels-idx1-ubyte"),
      idxBytes([2], (i) => i),
    );
    const started = performance.now();
    const err = await readIdxFile(fifo).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataFormatError);
    expect((err as DataFormatError).message).toBe(
      `${fifo} is a FIFO (named pipe); expected a regular file\n  hint: ${(err as DataFormatError).hint}`,
    );
    const mnist = await loadMnist({ dir: data }).catch((e: unknown) => e);
    expect(mnist).toBeInstanceOf(DataFormatError);
    expect((mnist as DataFormatError).message).toContain(`${fifo} is a FIFO (named pipe)`);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it("a directory named like an IDX file is an error naming it", async () => {
    const path = join(dir, "t10k-labels-idx1-ubyte");
    mkdirSync(path);
    await expect(readIdxFile(path)).rejects.toThrow(`${path} is a directory; expected a regular file`);
  });
});
