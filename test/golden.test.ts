/**
 * Golden test: three full BinaryConnect training steps of a small MLP (7-6-5-3, batch 4,
 * authors' batch norm, square hinge, Adam with the Glorot scale and clipping) in det, stoch
 * and none modes, against values from an independent NumPy implementation
 * (test/golden/make_golden.py, output committed in test/golden/golden.json).
 */
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import type { Backend } from "../src/backends/backend.js";
import { counterUniform, fmix32, streamKey } from "../src/core/rng.js";
import type { Tensor } from "../src/core/tensor.js";
import { BatchNorm } from "../src/nn/batchNorm.js";
import type { Binarization } from "../src/nn/binarization.js";
import { mlpNetwork } from "../src/nn/mlp.js";
import { Network } from "../src/nn/network.js";
import { TEST_BACKENDS, WEBGPU, describeWebGpu, label, open, worstExcess } from "./backends.js";

interface GoldenStep {
  x: number[];
  labels: number[];
  Wb: number[][];
  logits: number[];
  loss: number;
  errors: number;
  grads: { Wb: number[][]; gamma: number[][]; beta: number[][] };
  after: Record<"W" | "gamma" | "beta" | "mW" | "vW" | "runningMean" | "runningStd", number[][]>;
}
interface Golden {
  config: {
    sizes: number[];
    batch: number;
    classes: number;
    lr: number;
    H: number;
    bnEps: number;
    bnMomentum: number;
    stochSeed: number;
  };
  rng: {
    fmix32: { in: number[]; out: number[] };
    streamKey: { seed: number; counters: number[]; keys: number[] };
    counterUniform: { key: number; indices: number[]; u: number[] };
  };
  inputs: { W0: number[][] };
  cases: { mode: Binarization; steps: GoldenStep[] }[];
}

const golden = JSON.parse(readFileSync(new URL("./golden/golden.json", import.meta.url), "utf8")) as Golden;
const ATOL = 2e-5,
  RTOL = 2e-4;

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  const { excess, index } = worstExcess(actual, expected, ATOL, RTOL);
  expect(excess, `${what}[${index}]: got ${actual[index]}, expected ${expected[index]}`).toBeLessThanOrEqual(0);
}

describe("golden: the counter-based RNG matches the NumPy reimplementation", () => {
  it("fmix32, streamKey, counterUniform", () => {
    expect(golden.rng.fmix32.in.map(fmix32)).toEqual(golden.rng.fmix32.out);
    const sk = golden.rng.streamKey;
    expect(sk.counters.map((c) => streamKey(sk.seed, c))).toEqual(sk.keys);
    const cu = golden.rng.counterUniform;
    expect(cu.indices.map((i) => counterUniform(cu.key, i))).toEqual(cu.u);
  });
});

// TEST_BACKENDS has webgpu only where an adapter is present: say so when it is not.
if (!WEBGPU.available) describeWebGpu("golden training steps on webgpu", () => it("runs", () => {}));

for (const b of TEST_BACKENDS) {
  describe(`golden training steps on ${label(b)}`, () => {
    let backend: Backend | undefined;
    afterAll(async () => backend?.close());

    for (const gcase of golden.cases) {
      it(`mode ${gcase.mode}: logits, loss, gradients and updated state for 3 steps`, async () => {
        backend ??= await open(b);
        const be = backend;
        const { sizes, classes, H, bnEps, bnMomentum, stochSeed } = golden.config;
        const model = Network.create(
          be,
          mlpNetwork({
            inputs: sizes[0],
            hidden: sizes.slice(1, -1),
            classes,
            binarization: gcase.mode,
            H,
            dropout: { input: 0, hidden: 0 },
            batchNorm: { variant: "authors", eps: bnEps, momentum: bnMomentum },
          }),
          stochSeed,
        );
        model.weighted.forEach((d, l) => {
          be.upload(d.W.value, Float32Array.from(golden.inputs.W0[l]));
        });
        const bns = model.layers.filter((l): l is BatchNorm => l instanceof BatchNorm);
        const read = (t: Tensor) => be.read(t);
        for (const [s, step] of gcase.steps.entries()) {
          const x = be.alloc([step.labels.length, sizes[0]]),
            y = be.alloc([step.labels.length]),
            metrics = be.alloc([2]);
          be.upload(x, Float32Array.from(step.x));
          be.upload(y, Float32Array.from(step.labels));
          model.trainStep(x, y, golden.config.lr, metrics);
          const at = `step ${s}`;
          expectClose(await read(model.lastLogits!), step.logits, `${at} logits`);
          const [lossSum, errors] = await read(metrics);
          expectClose([lossSum / step.labels.length], [step.loss], `${at} loss`);
          expect(errors, `${at} errors`).toBe(step.errors);
          for (const [l, d] of model.weighted.entries()) {
            expectClose(await read(d.W.grad), step.grads.Wb[l], `${at} layer ${l} dL/dWb`);
            expectClose(await read(bns[l].gamma.grad), step.grads.gamma[l], `${at} layer ${l} dL/dgamma`);
            expectClose(await read(bns[l].beta.grad), step.grads.beta[l], `${at} layer ${l} dL/dbeta`);
            expectClose(await read(d.W.value), step.after.W[l], `${at} layer ${l} W after update`);
            expectClose(await read(d.W.m), step.after.mW[l], `${at} layer ${l} Adam m`);
            expectClose(await read(d.W.v), step.after.vW[l], `${at} layer ${l} Adam v`);
            expectClose(await read(bns[l].gamma.value), step.after.gamma[l], `${at} layer ${l} gamma`);
            expectClose(await read(bns[l].beta.value), step.after.beta[l], `${at} layer ${l} beta`);
            expectClose(await read(bns[l].runningMean), step.after.runningMean[l], `${at} layer ${l} running mean`);
            expectClose(await read(bns[l].runningScale), step.after.runningStd[l], `${at} layer ${l} running std`);
          }
          for (const t of [x, y, metrics]) be.dispose(t);
        }
        model.dispose();
      });
    }
  });
}
