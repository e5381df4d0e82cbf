/**
 * The authors' preprocessing (src/data/preprocess.ts, lcn.ts) against an independent NumPy/SciPy
 * computation on tiny sets (test/fixtures/preprocess/make_fixture.py, output committed as
 * fixture.json): GCN (scale 55), ZCA (filter_bias 0.1; one set with fewer examples than
 * features, so the covariance is singular and the bias matters; a constant image), and LCN
 * after GCN (scale 1). Also the eigensolver on its own.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend } from "../src/backends/backend.js";
import { createBackend } from "../src/backends/index.js";
import { symmetricEigen } from "../src/data/eigh.js";
import { localContrastNormalize } from "../src/data/lcn.js";
import { applyZca, fitZca, globalContrastNormalize } from "../src/data/preprocess.js";
import { Xoshiro128 } from "../src/core/rng.js";

interface ZcaCase {
  n: number;
  features: number;
  input: number[][];
  gcn: number[][];
  mean: number[];
  P: number[];
  eigenvalues: number[];
  output: number[];
}
const fixture = JSON.parse(readFileSync(new URL("./fixtures/preprocess/fixture.json", import.meta.url), "utf8")) as {
  zca: ZcaCase[];
  lcn: { shape: number[]; input: number[]; gcn: number[]; output: number[] };
};

/** max |a - b| / max |b|: the error relative to the array's scale. */
function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let err = 0,
    scale = 0;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return err / scale;
}

let wasm: Backend;
beforeAll(async () => {
  wasm = await createBackend("wasm", { threads: 2 });
});
afterAll(async () => wasm.close());

describe("GCN and ZCA against NumPy/SciPy (pylearn2's formulas)", () => {
  for (const c of fixture.zca) {
    const x = () => Float32Array.from(c.input.flat());
    it(`GCN scale 55, ${c.n} examples x ${c.features} features (a constant image becomes 0)`, () => {
      const g = x();
      globalContrastNormalize(g, c.n, c.features, { scale: 55 });
      expect(relError(g, c.gcn.flat())).toBeLessThan(1e-6);
      expect(Array.from(g.subarray(3 * c.features, 4 * c.features)).every((v) => v === 0)).toBe(true);
      // every other row has norm 55
      const row0 = g.subarray(0, c.features);
      expect(Math.hypot(...row0)).toBeCloseTo(55, 3);
    });

    for (const where of ["float64 here", "float32 on the wasm backend"] as const) {
      it(`ZCA (filter_bias 0.1), ${c.n} x ${c.features}, ${where}: mean, P, eigenvalues and the whitened data`, async () => {
        const g = Float32Array.from(c.gcn.flat());
        const backend = where === "float64 here" ? undefined : wasm;
        const zca = await fitZca(g, c.n, c.features, { filterBias: 0.1, backend });
        // float32 (the backend): the Gram matrix's rounding (~2^-24 |C|, |C| ~ 1e2) moves the
        // smallest eigenvalues (~0.1, the bias) by ~1e-5, so 1/sqrt(l) by ~5e-5 relative. A wrong
        // formula (no bias, n-1 instead of n, P = V diag(l^-1/2) without V^T) is off by > 1e-2.
        const tol = backend ? 1e-4 : 2e-6;
        expect(relError(zca.mean, c.mean)).toBeLessThan(tol);
        expect(relError(zca.P, c.P)).toBeLessThan(tol);
        expect(relError(zca.eigenvalues, c.eigenvalues)).toBeLessThan(tol);
        const out = await applyZca(zca, g, c.n, { backend });
        expect(relError(out, c.output)).toBeLessThan(tol);
      });
    }
  }
});

describe("LCN against NumPy/SciPy (pylearn2's lecun_lcn, 7x7, sigma 2)", () => {
  it("GCN (scale 1) then LCN on each channel of NHWC images, a constant image included", () => {
    const [n, H, W, C] = fixture.lcn.shape;
    const x = Float32Array.from(fixture.lcn.input);
    globalContrastNormalize(x, n, H * W * C, { scale: 1 });
    expect(relError(x, fixture.lcn.gcn)).toBeLessThan(1e-6);
    for (let i = 0; i < n; i++) localContrastNormalize(x, i * H * W * C, H, W, C);
    expect(relError(x, fixture.lcn.output)).toBeLessThan(1e-5);
  });
});

describe("symmetricEigen", () => {
  it("A v = l v with orthonormal v for a random symmetric matrix, and the 1x1 and diagonal cases", () => {
    const n = 40,
      rng = new Xoshiro128(3);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rng.uniform(-1, 1);
    const { values, vectors } = symmetricEigen(a, n);
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) {
        let av = 0;
        for (let k = 0; k < n; k++) av += a[i * n + k] * vectors[j * n + k];
        expect(Math.abs(av - values[j] * vectors[j * n + i])).toBeLessThan(1e-12);
      }
      for (let k = 0; k < n; k++) {
        let d = 0;
        for (let i = 0; i < n; i++) d += vectors[j * n + i] * vectors[k * n + i];
        expect(Math.abs(d - (j === k ? 1 : 0))).toBeLessThan(1e-12);
      }
    }
    expect(Array.from(symmetricEigen([5], 1).values)).toEqual([5]);
    expect(Array.from(symmetricEigen([2, 0, 0, 3], 2).values).sort()).toEqual([2, 3]);
  });
});
