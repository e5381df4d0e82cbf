import { describe, expect, it } from "vitest";
import { randomModel, randomPixels } from "../../test/bcnet-fixtures.js";
import { worstExcess } from "../../test/backends.js";
import { ShapeError } from "../core/errors.js";
import { encodeBcnet } from "../format/encode.js";
import { BinaryClassifier } from "./classifier.js";
import { forwardReference, preprocess } from "./reference.js";

describe("BinaryClassifier (wasm lookup-table engine) against the reference loops", () => {
  // Sizes that exercise every edge: inputs not a multiple of 8 (or of 4 groups, or past one
  // chunk of 32 groups), units not a multiple of 4 or 8; batches of full 8-row blocks, of
  // leftover rows through the one-row kernel (1..3) or a padded block (4..15), and of several
  // chunks of 256 rows.
  const cases: [number[], number][] = [
    [[784, 64, 32, 10], 1], [[784, 64, 32, 10], 3], [[784, 64, 32, 10], 7], [[784, 64, 32, 10], 16], [[784, 40, 10], 18], [[13, 9, 5, 3], 5],
    [[8, 1], 4], [[100, 200, 10], 300], [[300, 7, 3], 9], [[3, 2], 1], [[3, 2], 2],
  ];
  for (const [sizes, count] of cases) {
    it(`${sizes.join("-")}, ${count} example(s): scores within atol 1e-4 + rtol 1e-4 of float64 sums`, async () => {
      const model = randomModel(sizes, sizes.length * 31 + count);
      const raw = randomPixels(count, sizes[0], count);
      const wasm = await BinaryClassifier.load(encodeBcnet(model), { engine: "wasm" });
      expect(wasm.engine).toBe("wasm");
      const got = wasm.predict(raw);
      const want = forwardReference(model, preprocess(model, raw, count), count);
      const { excess, index } = worstExcess(got.scores, want, 1e-4, 1e-4);
      expect(excess, `worst at ${index}: ${got.scores[index]} vs ${want[index]}`).toBeLessThanOrEqual(0);
      const js = await BinaryClassifier.load(model, { engine: "js" });
      expect(Array.from(js.predict(raw).scores)).toEqual(Array.from(want));
      expect(got.labels.length).toBe(count);
    });
  }

  it("predictFeatures takes preprocessed rows; predict(raw) equals predictFeatures(preprocess(raw))", async () => {
    const model = randomModel([784, 32, 10], 5);
    const net = await BinaryClassifier.load(model);
    const raw = randomPixels(9, 784, 3);
    const a = net.predict(raw), b = net.predictFeatures(preprocess(model, raw, 9));
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    expect(worstExcess(a.scores, b.scores, 1e-5, 1e-5).excess).toBeLessThanOrEqual(0);
    // 8-bit inputs are preprocessed in wasm, others on the host: the same f64 arithmetic.
    expect(Array.from(net.predict(Array.from(raw)).scores)).toEqual(Array.from(a.scores));
    expect(Array.from(net.predict(Float32Array.from(raw)).scores)).toEqual(Array.from(a.scores));
  });

  it("labels are the first maximum of the scores; a wrong input size is a ShapeError", async () => {
    const net = await BinaryClassifier.load(randomModel([16, 8, 4], 9));
    const p = net.predict(randomPixels(50, 16, 4));
    for (let m = 0; m < p.count; m++) {
      const row = Array.from(p.scores.subarray(m * 4, m * 4 + 4));
      expect(p.labels[m]).toBe(row.indexOf(Math.max(...row)));
    }
    expect(() => net.predict(new Uint8Array(17))).toThrow(ShapeError);
    expect(() => net.predict(new Uint8Array(16), 2)).toThrow(/expected 2 x 16 = 32 input values, found 16/);
  });
});
