/**
 * A binary layer is exactly the float layer run on sign(W) * H: same outputs, same input
 * gradient, and its weight gradient (straight-through) equals the float layer's - for the dense
 * and the convolution layer, on every backend. A dense layer large enough for the wasm
 * backend's lookup-table product (binaryMatmul: the same sums in another order) agrees within
 * float32 rounding instead, its weight gradient still exactly. Then the conv layer's parameters.
 */
import { describe, expect, it } from "vitest";
import type { Backend } from "../src/backends/backend.js";
import { Xoshiro128 } from "../src/core/rng.js";
import { Conv2D, type Conv2DOptions } from "../src/nn/conv2d.js";
import { Dense } from "../src/nn/dense.js";
import type { Binarization } from "../src/nn/binarization.js";
import type { ForwardContext, Layer } from "../src/nn/layer.js";
import { glorotLrScale, type Param } from "../src/nn/param.js";
import { TEST_BACKENDS, label, open } from "./backends.js";

const H = 0.5;
const ctx = (weights: ForwardContext["weights"]): ForwardContext => ({ weights, key: () => 1234 });

interface LayerUnderTest {
  kind: string;
  seed: number;
  make(be: Backend, name: string, binarization: Binarization): Layer & { W: Param };
  xShape: number[];
  dyShape: number[];
  /** Tolerance of the outputs and the input gradient (default: bit for bit). */
  tol?: { atol: number; rtol: number };
}

const B = 5,
  I = 13,
  U = 7;
/** Above binaryMatmul's lookup-table sizes on wasm (>= 64 units, >= 32 inputs), both products: 3 row blocks, odd sizes. */
const B2 = 37,
  I2 = 70,
  U2 = 66;
const N = 2,
  Hs = 6,
  Ws = 5,
  C = 3,
  Co = 4;
const convOpts: Omit<Conv2DOptions, "binarization"> = {
  inChannels: C,
  filters: Co,
  kernel: [3, 3],
  stride: [1, 1],
  pad: [1, 1],
  H,
  bias: false,
  inputGrad: true,
  randomSlot: 0,
};

/** A dense layer `inputs` -> `units` without bias, with an input gradient. */
const dense =
  (inputs: number, units: number): LayerUnderTest["make"] =>
  (be, name, binarization) =>
    new Dense(be, name, { inputs, units, H, bias: false, inputGrad: true, randomSlot: 0, binarization });

const LAYERS: LayerUnderTest[] = [
  { kind: "dense", seed: 3, xShape: [B, I], dyShape: [B, U], make: dense(I, U) },
  {
    kind: "dense (lookup-table sizes)",
    seed: 4,
    xShape: [B2, I2],
    dyShape: [B2, U2],
    make: dense(I2, U2),
    // float32 sums of I2 (forward) or U2 (dx) terms |x| H <= 0.5 in another order
    tol: { atol: 2e-6 * Math.max(I2, U2) * H, rtol: 1e-5 },
  },
  {
    kind: "conv",
    seed: 5,
    xShape: [N, Hs, Ws, C],
    dyShape: [N, Hs, Ws, Co],
    make: (be, name, binarization) => new Conv2D(be, name, { ...convOpts, binarization }),
  },
];

for (const b of TEST_BACKENDS) {
  for (const layer of LAYERS) {
    describe(`binary ${layer.kind} layer on ${label(b)}`, () => {
      it("equals the float layer on sign(W) * H: forward, dx and dW", async () => {
        const be = await open(b);
        const rng = new Xoshiro128(layer.seed);
        const binary = layer.make(be, "binary", "det");
        const float = layer.make(be, "float", "none");
        const w = Float32Array.from({ length: binary.W.value.size }, () => rng.uniform(-H, H));
        w[0] = 0; // zero maps to +H
        const signW = w.map((v) => (v >= 0 ? H : -H));
        const x = be.alloc(layer.xShape),
          dy = be.alloc(layer.dyShape);
        be.upload(
          x,
          Float32Array.from({ length: x.size }, () => rng.uniform(-1, 1)),
        );
        be.upload(
          dy,
          Float32Array.from({ length: dy.size }, () => rng.uniform(-1, 1)),
        );
        be.upload(binary.W.value, w);
        be.upload(float.W.value, signW);

        for (const mode of ["train", "binary"] as const) {
          const yb = await be.read(binary.forward(x, ctx(mode)));
          const yf = await be.read(float.forward(x, ctx("train")));
          expectClose(yb, yf, layer.tol, `y (${mode})`);
        }
        binary.forward(x, ctx("train"));
        float.forward(x, ctx("train"));
        expectClose(await be.read(binary.backward(dy)!), await be.read(float.backward(dy)!), layer.tol, "dx");
        expect(Array.from(await be.read(binary.W.grad))).toEqual(Array.from(await be.read(float.W.grad)));
        // the latent weights are untouched by the forward pass, and "real" test time uses them
        expect(Array.from(await be.read(binary.W.value))).toEqual(Array.from(w));
        const yReal = await be.read(binary.forward(x, ctx("real")));
        be.upload(float.W.value, w);
        expect(Array.from(yReal)).toEqual(Array.from(await be.read(float.forward(x, ctx("train")))));
        await be.close();
      });
    });
  }
}

/** Equal bit for bit, or within atol + rtol |expected| elementwise. */
function expectClose(actual: Float32Array, expected: Float32Array, tol: LayerUnderTest["tol"], what: string): void {
  if (!tol) {
    expect(Array.from(actual), what).toEqual(Array.from(expected));
    return;
  }
  expect(actual.length, what).toBe(expected.length);
  const bad = Array.from(actual).findIndex(
    (v, i) => !(Math.abs(v - expected[i]) <= tol.atol + tol.rtol * Math.abs(expected[i])),
  );
  expect(bad, `${what}: element ${bad} is ${actual[bad]}, expected ${expected[bad]}`).toBe(-1);
}

describe("dense layer products", () => {
  it("binary weights go through binaryMatmul (forward and dx), real ones through matmul; dW is always matmul", async () => {
    const be = await open({ name: "reference" });
    const calls: string[] = [];
    const run = be.run.bind(be);
    be.run = ((kernel, args) => {
      if (kernel === "matmul" || kernel === "binaryMatmul") calls.push(kernel);
      run(kernel, args);
    }) as typeof be.run;
    const layer = dense(I, U)(be, "d", "det");
    const x = be.alloc([B, I]),
      dy = be.alloc([B, U]);
    const pass = (weights: ForwardContext["weights"]) => {
      calls.length = 0;
      layer.forward(x, ctx(weights));
      layer.backward(dy);
      return [...calls];
    };
    // forward, then backward: dW (x^T dy), then dx (dy Wb^T)
    expect(pass("train")).toEqual(["binaryMatmul", "matmul", "binaryMatmul"]);
    expect(pass("binary")).toEqual(["binaryMatmul", "matmul", "binaryMatmul"]);
    expect(pass("real")).toEqual(["matmul", "matmul", "matmul"]);
    await be.close();
  });
});

describe("conv layer parameters", () => {
  it("uses the conv Glorot scale (fan_in = k k Cin, fan_out = k k Cout) and clips to H; real weights have none", async () => {
    const be = await open({ name: "reference" });
    const det = new Conv2D(be, "c", { ...convOpts, binarization: "det" });
    expect(det.W.binary).toEqual({ lrScale: glorotLrScale(9 * C, 9 * Co), clip: H });
    // per-layer options: no clipping, a fixed scale
    expect(new Conv2D(be, "u", { ...convOpts, binarization: "stoch", clip: false, lrScale: 2 }).W.binary).toEqual({
      lrScale: 2,
      clip: 0,
    });
    expect(det.W.binary!.lrScale).toBeCloseTo(1 / Math.sqrt(1.5 / (27 + 36)), 12);
    // the paper's 128 -> 128 3x3 layer: 1 / sqrt(1.5 / 2304) = 39.2
    expect(glorotLrScale(9 * 128, 9 * 128)).toBeCloseTo(39.19, 2);
    expect(new Conv2D(be, "r", { ...convOpts, binarization: "none" }).W.binary).toBeNull();
    expect(det.W.value.shape).toEqual([3, 3, C, Co]);
    await be.close();
  });
});
