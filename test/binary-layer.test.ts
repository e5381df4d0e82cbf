/**
 * A binary dense layer is exactly a float dense layer run on sign(W) * H: same outputs, same
 * input gradient, and its weight gradient (straight-through) equals the float layer's.
 */
import { describe, expect, it } from "vitest";
import { Xoshiro128 } from "../src/core/rng.js";
import { Dense } from "../src/nn/dense.js";
import type { ForwardContext } from "../src/nn/layer.js";
import { TEST_BACKENDS, label, open } from "./backends.js";

const B = 5, I = 13, U = 7, H = 0.5;
const ctx = (weights: ForwardContext["weights"]): ForwardContext => ({ weights, key: () => 1234 });

for (const b of TEST_BACKENDS) {
  describe(`binary dense layer on ${label(b)}`, () => {
    it("equals the float layer on sign(W) * H: forward, dx and dW", async () => {
      const be = await open(b);
      const rng = new Xoshiro128(3);
      const w = Float32Array.from({ length: I * U }, () => rng.uniform(-H, H));
      w[0] = 0; // zero maps to +H
      const signW = w.map((v) => (v >= 0 ? H : -H));
      const x = be.alloc([B, I]), dy = be.alloc([B, U]);
      be.upload(x, Float32Array.from({ length: B * I }, () => rng.uniform(-1, 1)));
      be.upload(dy, Float32Array.from({ length: B * U }, () => rng.uniform(-1, 1)));
      const opts = { inputs: I, units: U, H, bias: false, inputGrad: true, randomSlot: 0 };
      const binary = new Dense(be, "binary", { ...opts, binarization: "det" });
      const float = new Dense(be, "float", { ...opts, binarization: "none" });
      be.upload(binary.W.value, w);
      be.upload(float.W.value, signW);

      for (const mode of ["train", "binary"] as const) {
        const yb = await be.read(binary.forward(x, ctx(mode)));
        const yf = await be.read(float.forward(x, ctx("train")));
        expect(Array.from(yb), mode).toEqual(Array.from(yf));
      }
      binary.forward(x, ctx("train"));
      float.forward(x, ctx("train"));
      expect(Array.from(await be.read(binary.backward(dy)!))).toEqual(Array.from(await be.read(float.backward(dy)!)));
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
