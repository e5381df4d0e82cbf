import { crc32 as zlibCrc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import { randomModel } from "../../test/bcnet-fixtures.js";
import { ModelFormatError, ShapeError } from "../core/errors.js";
import { Xoshiro128 } from "../core/rng.js";
import { BinaryClassifier } from "../infer/classifier.js";
import { BCNET_MAGIC, HEADER_BYTES, layoutOf } from "./bcnet.js";
import { crc32 } from "./crc32.js";
import { decodeBcnet } from "./decode.js";
import { encodeBcnet } from "./encode.js";
import { foldBatchNorm } from "./fold.js";
import { packSigns, unpackSigns } from "./pack.js";

const model = randomModel([20, 12, 5], 3);
const good = encodeBcnet(model);

/** The decoder's error for `bytes` (fails the test when it decodes). */
function errorOf(bytes: Uint8Array): ModelFormatError {
  try {
    decodeBcnet(bytes, "m.bcnet");
  } catch (e) {
    if (e instanceof ModelFormatError) return e;
    throw e;
  }
  throw new Error("decoded without an error");
}

function withCrc(bytes: Uint8Array): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(16, crc32(bytes.subarray(20)), true);
  return bytes;
}

describe(".bcnet encode / decode", () => {
  it("crc32 equals zlib's", () => {
    for (const s of ["", "a", "123456789", "BinaryConnect"]) {
      const b = new TextEncoder().encode(s);
      expect(crc32(b)).toBe(zlibCrc32(b));
    }
    expect(crc32(good)).toBe(zlibCrc32(good));
  });

  it("round-trips every field, is deterministic, and sizes sections as layoutOf says", () => {
    const back = decodeBcnet(good);
    expect(back.inputs).toBe(20);
    expect(back.info).toEqual(model.info);
    expect(back.preprocess.inputScale).toBe(model.preprocess.inputScale);
    expect(Array.from(back.preprocess.mean)).toEqual(Array.from(model.preprocess.mean));
    back.layers.forEach((l, i) => {
      const m = model.layers[i];
      expect([l.inputs, l.units, l.activation]).toEqual([m.inputs, m.units, m.activation]);
      expect(Array.from(l.bits)).toEqual(Array.from(m.bits));
      expect(Array.from(l.scale)).toEqual(Array.from(m.scale));
      expect(Array.from(l.shift)).toEqual(Array.from(m.shift));
    });
    expect(Array.from(encodeBcnet(back))).toEqual(Array.from(good));
    expect(good.length).toBe(layoutOf(20, [12, 5], new TextEncoder().encode(JSON.stringify(model.info)).length).fileBytes);
    // An unaligned view of the same bytes decodes too.
    const shifted = new Uint8Array(good.length + 1);
    shifted.set(good, 1);
    expect(decodeBcnet(shifted.subarray(1)).layers[1].shift[2]).toBe(model.layers[1].shift[2]);
  });

  it("the paper's MNIST MLP (784-1024-1024-1024-10) takes <= 0.40 MiB", () => {
    const sizes = [784, 1024, 1024, 1024, 10];
    const bytes = layoutOf(784, sizes.slice(1), 300).fileBytes;
    expect(bytes / 2 ** 20).toBeLessThanOrEqual(0.4);
    expect(bytes).toBeGreaterThan(2_910_208 / 8); // 1 bit per weight, plus the floats
  });

  it("rejects a wrong magic, an unknown version, a truncated file and a checksum mismatch, each with its own error", () => {
    const magic = good.slice();
    magic[1] = 0x58;
    expect(errorOf(magic).problem).toBe("magic");
    expect(errorOf(magic).message).toMatch(/m\.bcnet: not a \.bcnet model: expected the magic 89 42 43 4e 45 54 0d 0a .* found 89 58 43/);
    expect(errorOf(new TextEncoder().encode("BCONNECT\x01\x00\x00\x00")).problem).toBe("magic"); // a checkpoint
    const version = good.slice();
    new DataView(version.buffer).setUint32(8, 2, true);
    expect(errorOf(version).problem).toBe("version");
    expect(errorOf(version).message).toMatch(/model format version 2; this binaryconnect reads version 1[\s\S]*hint: .*newer binaryconnect/);
    for (const n of [0, 3, 8, 30, HEADER_BYTES, good.length - 1]) {
      const e = errorOf(good.subarray(0, n));
      expect(e.problem, `cut at ${n}`).toBe("truncated");
      expect(e.message).toMatch(/truncated/);
    }
    expect(errorOf(good.subarray(0, good.length - 5)).message).toMatch(/file is \d+ bytes but its header declares \d+: the file is truncated \(5 bytes missing\)/);
    const flipped = good.slice();
    flipped[good.length - 20] ^= 0x10;
    expect(errorOf(flipped).problem).toBe("checksum");
    expect(errorOf(flipped).message).toMatch(/checksum mismatch \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\): the file is corrupt/);
    const longer = new Uint8Array(good.length + 4);
    longer.set(good);
    expect(errorOf(longer).problem).toBe("invalid");
  });

  it("rejects headers that contradict the layout even with a valid checksum", () => {
    const set = (at: number, v: number) => {
      const b = good.slice();
      new DataView(b.buffer).setUint32(at, v, true);
      return withCrc(b);
    };
    expect(errorOf(set(24, 0)).message).toMatch(/0 layers; the format allows 1\.\.64/);
    expect(errorOf(set(24, 1e9)).message).toMatch(/layers; the format allows/);
    expect(errorOf(set(20, 21)).message).toMatch(/the header's sizes \(21-12-5, \d+ bytes of info\) make a \d+-byte file/);
    expect(errorOf(set(HEADER_BYTES, 7)).message).toMatch(/layer 0 has kind 7/);
    expect(errorOf(set(HEADER_BYTES + 8, 2)).message).toMatch(/activation 2; expected 0 \(identity\) or 1 \(relu\)/);
    expect(errorOf(set(28, 0)).problem).toBe("invalid");
  });

  it("fuzz: 3,000 random mutations of a valid file give only ModelFormatError (or a model that runs), never another exception", async () => {
    const rng = new Xoshiro128(20251127);
    const int = (n: number) => Math.floor(rng.next() * n);
    const counts = { magic: 0, version: 0, truncated: 0, checksum: 0, invalid: 0, decoded: 0 };
    const started = performance.now();
    for (let i = 0; i < 3000; i++) {
      let b: Uint8Array = good.slice();
      const kind = int(6);
      if (kind === 0) b = b.subarray(0, int(b.length)); // truncate
      else if (kind === 1) for (let j = 0, n = 1 + int(4); j < n; j++) b[int(b.length)] ^= 1 << int(8); // bit flips
      else if (kind === 2) for (let j = 0, n = 1 + int(8); j < n; j++) b[int(b.length)] = int(256); // random bytes
      else if (kind === 3) b.set(Uint8Array.from({ length: 4 }, () => int(256)), 4 * int(HEADER_BYTES / 4 + 8)); // header words
      else if (kind === 4) { // header word, checksum fixed: exercises the checks after the CRC
        new DataView(b.buffer).setUint32(4 * (3 + int(13)), rng.next() < 0.5 ? int(1 << 20) : rng.nextUint32(), true);
        withCrc(b);
      } else { // random bytes anywhere, checksum fixed
        for (let j = 0, n = 1 + int(16); j < n; j++) b[20 + int(b.length - 20)] = int(256);
        withCrc(b);
      }
      try {
        const decoded = decodeBcnet(b);
        const scores = (await BinaryClassifier.load(decoded)).predict(new Uint8Array(decoded.inputs)).scores;
        expect(scores.length).toBe(decoded.layers[decoded.layers.length - 1].units);
        counts.decoded++;
      } catch (e) {
        if (!(e instanceof ModelFormatError)) throw new Error(`mutation ${i} (kind ${kind}) threw ${String(e)}`);
        counts[e.problem]++;
      }
    }
    expect(performance.now() - started).toBeLessThan(10_000); // no hang
    for (const k of ["magic", "truncated", "checksum", "invalid"] as const) expect(counts[k], JSON.stringify(counts)).toBeGreaterThan(10);
    expect(counts.version).toBeGreaterThan(0);
  });

  it("encode refuses a model that contradicts itself", () => {
    const bad = { ...model, layers: [model.layers[1]] };
    expect(() => encodeBcnet(bad)).toThrow(ShapeError);
    expect(() => encodeBcnet(bad)).toThrow(/layer 0 has 12 inputs but the previous layer gives 20/);
  });

  it("starts with the magic", () => {
    expect(Array.from(good.subarray(0, 8))).toEqual(Array.from(BCNET_MAGIC));
  });
});

describe("bit packing and batch-norm folding", () => {
  it("packSigns / unpackSigns: bit j of byte g of unit n is sign(W[8g+j][n]), zero maps to +1", () => {
    const inputs = 11, units = 3;
    const w = Float32Array.from({ length: inputs * units }, (_, i) => ((i * 7) % 5) - 2); // includes zeros
    const bits = packSigns(w, inputs, units);
    expect(bits.length).toBe(units * 2);
    const back = unpackSigns(bits, inputs, units, 0.5);
    for (let i = 0; i < w.length; i++) expect(back[i]).toBe(w[i] >= 0 ? 0.5 : -0.5);
    expect(bits[1] & 0b1111_1000).toBe(0); // padding bits past input 10
    expect(bits[0] & 1).toBe(w[0] >= 0 ? 1 : 0);
  });

  for (const variant of ["authors", "standard"] as const) {
    it(`folding the ${variant} batch norm: a s + b equals BN(H s)`, () => {
      const bn = { variant, eps: 1e-4, gamma: [1.5, -0.3, 2], beta: [0.1, 0.2, -1], runningMean: [3, -2, 0.5], runningScale: [0.7, 2, 0.01] };
      const H = 0.5;
      const { scale, shift } = foldBatchNorm(bn, H);
      for (const s of [-7, 0, 3.25]) {
        for (let c = 0; c < 3; c++) {
          const z = H * s;
          const r = variant === "authors" ? 1 / (bn.runningScale[c] + bn.eps) : 1 / Math.sqrt(bn.runningScale[c] + bn.eps);
          const want = (z - bn.runningMean[c]) * r * bn.gamma[c] + bn.beta[c];
          expect(scale[c] * s + shift[c]).toBeCloseTo(want, 4);
        }
      }
    });
  }
});
