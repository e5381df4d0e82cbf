/**
 * The general network (src/nn/network.ts) and the paper's architecture notation: the CIFAR-10
 * and SVHN CNNs as the authors' code builds them, a finite-difference check of a whole small
 * CNN's gradients (conv, pool, batch norm, ReLU, flatten, dense, loss wired together), the
 * wasm backend against the reference on a training step, and a short training that learns.
 */
import { describe, expect, it } from "vitest";
import type { Backend } from "../src/backends/backend.js";
import { createBackend } from "../src/backends/index.js";
import { ReferenceBackend } from "../src/backends/reference/index.js";
import { OptionError, UsageError } from "../src/core/errors.js";
import { Xoshiro128 } from "../src/core/rng.js";
import type { Tensor } from "../src/core/tensor.js";
import { denseWidths, describeLayers, parseArchitecture } from "../src/nn/architecture.js";
import { Conv2D } from "../src/nn/conv2d.js";
import { layerFusion } from "../src/nn/batchNorm.js";
import { Dense } from "../src/nn/dense.js";
import { Network, type NetworkConfig } from "../src/nn/network.js";
import { readModelState, writeModelState } from "../src/train/modelState.js";
import { worstExcess } from "./backends.js";
import { words } from "./cli-helpers.js";

const CIFAR = "(2x128C3)-MP2-(2x256C3)-MP2-(2x512C3)-MP2-(2x1024FC)-10";
const SVHN = "(2x64C3)-MP2-(2x128C3)-MP2-(2x256C3)-MP2-(2x1024FC)-10";
const BN = { variant: "authors", eps: 1e-4, momentum: 0.1 } as const;

describe("architecture notation", () => {
  it("builds the CIFAR-10 CNN as the authors: conv - [pool] - BN - ReLU, flatten, dense, output BN without ReLU", () => {
    const layers = parseArchitecture(CIFAR);
    const block = (f: number) => `conv 3x3x${f} pad 1,1 - bn - relu - conv 3x3x${f} pad 1,1 - maxpool 2x2 - bn - relu`;
    expect(describeLayers(layers)).toBe(
      `${block(128)} - ${block(256)} - ${block(512)} - flatten - dense 1024 - bn - relu - dense 1024 - bn - relu - dense 10 - bn`,
    );
  });

  it("has the paper's 14.0 M binary weights (CIFAR-10) and output 10 classes", () => {
    const be = new ReferenceBackend();
    // build only the shapes (no weights upload): count from the layer options
    const net = Network.create(
      be,
      { input: [32, 32, 3], layers: parseArchitecture(CIFAR), binarization: "det", H: 1, batchNorm: BN },
      1,
    );
    const weights = net.weighted.reduce((s, l) => s + l.W.value.size, 0);
    expect(weights).toBe(14_022_016);
    expect(net.classes).toBe(10);
    expect(
      net.weighted.map((l) =>
        l instanceof Conv2D
          ? `c${l.opts.inChannels}>${l.opts.filters}`
          : `d${l.opts.inputs}>${(l as Dense).opts.units}`,
      ),
    ).toEqual(words("c3>128 c128>128 c128>256 c256>256 c256>512 c512>512 d8192>1024 d1024>1024 d1024>10"));
    // the first layer needs no input gradient; all others do
    expect(net.weighted.map((l) => l.opts.inputGrad)).toEqual([false, true, true, true, true, true, true, true, true]);
    net.dispose();
  });

  it("gives the widths of a network of dense layers only, and null for any other", () => {
    expect(denseWidths(parseArchitecture("(3x4096FC)-10"))).toEqual([4096, 4096, 4096, 10]);
    expect(denseWidths(parseArchitecture("512FC-10"))).toEqual([512, 10]);
    expect(denseWidths(parseArchitecture("(2x4C3)-MP2-16FC-10"))).toBeNull();
    expect(denseWidths([{ kind: "flatten" }, { kind: "dropout", p: 0.5 }, { kind: "dense", units: 10 }])).toBeNull();
    expect(denseWidths([{ kind: "flatten" }])).toBeNull();
  });

  it("reads the SVHN CNN and rejects what it cannot read, naming the part", () => {
    expect(
      parseArchitecture(SVHN)
        .filter((l) => l.kind === "conv")
        .map((l) => (l.kind === "conv" ? l.filters : 0)),
    ).toEqual([64, 64, 128, 128, 256, 256]);
    expect(() => parseArchitecture("(2x128C3)-MP2-1024FC")).toThrow(/the last part must be the number of classes/);
    expect(() => parseArchitecture("128K3-10")).toThrow(OptionError);
    expect(() => parseArchitecture("128K3-10")).toThrow(/cannot read "128K3"/);
    expect(() => parseArchitecture("100FC-64C3-10")).toThrow(/a convolution \(64C3\) cannot follow a dense layer/);
  });
});

/** A small CNN exercising every layer kind: conv (stride 1 and 2), pool, BN, ReLU, flatten, dense. */
function smallConfig(binarization: NetworkConfig["binarization"]): NetworkConfig {
  return {
    input: [6, 6, 2],
    binarization,
    H: 1,
    batchNorm: BN,
    layers: [
      { kind: "conv", filters: 3, kernel: [3, 3], stride: [1, 1], pad: [1, 1] },
      { kind: "maxpool", window: [2, 2], stride: [2, 2] },
      { kind: "batchnorm" },
      { kind: "relu" },
      { kind: "conv", filters: 4, kernel: [2, 2], stride: [2, 2], pad: [1, 1] },
      { kind: "batchnorm" },
      { kind: "relu" },
      { kind: "flatten" },
      { kind: "dense", units: 5 },
      { kind: "batchnorm" },
    ],
  };
}

function batch(
  be: Backend,
  n: number,
  features: number,
  seed: number,
): { x: Tensor; y: Tensor; xs: Float32Array; ys: Float32Array } {
  const rng = new Xoshiro128(seed);
  const xs = Float32Array.from({ length: n * features }, () => rng.uniform(-1, 1));
  const ys = Float32Array.from({ length: n }, (_, i) => i % 5);
  const x = be.alloc([n, features]),
    y = be.alloc([n]);
  be.upload(x, xs);
  be.upload(y, ys);
  return { x, y, xs, ys };
}

describe("a small CNN's gradients (reference backend, real weights)", () => {
  it("every parameter's gradient matches central differences of the loss", async () => {
    const be = new ReferenceBackend();
    const net = Network.create(be, smallConfig("none"), 3);
    const { x, y } = batch(be, 6, 72, 4);
    const metrics = be.alloc([2]),
      grad = be.alloc([6, 5]);
    const loss = (): number => {
      be.run("fill", { out: metrics, value: 0 });
      const logits = net.forward(x, "train");
      be.run("squareHingeLoss", { logits, labels: y, grad, metrics });
      return be.data(metrics)[0] / 6;
    };
    loss();
    let g: Tensor | null = grad;
    for (let i = net.layers.length - 1; i >= 0 && g; i--) g = net.layers[i].backward(g);
    const rng = new Xoshiro128(9);
    let checked = 0;
    // Central differences at two steps: a step that crosses a kink (a ReLU input or a pooling
    // argmax within h of switching) gives a wrong numeric value, but not at both steps at once
    // for the same entry here. A wrong formula fails at both (errors of 1e-2 .. 1).
    const numeric = (values: Float32Array, i: number, h: number): number => {
      const orig = values[i];
      values[i] = orig + h;
      const up = loss(),
        hUp = values[i] - orig;
      values[i] = orig - h;
      const down = loss(),
        hDown = orig - values[i];
      values[i] = orig;
      return (up - down) / (hUp + hDown);
    };
    for (const p of net.params()) {
      const analytic = be.data(p.grad).slice(),
        values = be.data(p.value);
      for (let k = 0; k < 6; k++) {
        const i = Math.floor(rng.next() * values.length);
        const steps = [1e-3, 3e-4].map((h) => numeric(values, i, h));
        const close = steps.some((n) => Math.abs(analytic[i] - n) <= 1e-3 + 0.01 * Math.abs(n));
        expect(close, `${p.name}[${i}]: analytic ${analytic[i]}, numeric ${steps.join(" / ")}`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBe(6 * net.params().length);
    net.dispose();
  });
});

describe("the wasm backend against the reference on training steps of a small binary CNN", () => {
  it("same logits, loss and updated weights after 3 steps (stoch binarization)", async () => {
    const ref = new ReferenceBackend(),
      wasm = await createBackend("wasm", { threads: 2 });
    const run = async (be: Backend) => {
      const net = Network.create(be, smallConfig("stoch"), 11);
      const { x, y } = batch(be, 8, 72, 12);
      const metrics = be.alloc([2]);
      for (let s = 0; s < 3; s++) net.trainStep(x, y, 0.01, metrics);
      const logits = await be.read(net.lastLogits!);
      const state = await readModelState(net, true);
      const m = await be.read(metrics);
      net.dispose();
      return { logits, state, m };
    };
    const a = await run(ref),
      b = await run(wasm);
    expect(worstExcess(b.logits, a.logits, 1e-4, 1e-4).excess).toBeLessThanOrEqual(0);
    expect(b.m[1]).toBe(a.m[1]);
    expect(b.m[0]).toBeCloseTo(a.m[0], 3);
    for (const [i, t] of a.state.entries()) {
      expect(b.state[i].name).toBe(t.name);
      expect(worstExcess(b.state[i].data, t.data, 1e-4, 1e-3).excess, t.name).toBeLessThanOrEqual(0);
    }
    await wasm.close();
  });
});

describe("a batch norm and the ReLU after it, run as one call in training", () => {
  it("give the same steps, bit for bit, as the two layers apart; no relu kernel runs in training", async () => {
    const backends: Backend[] = [
      new ReferenceBackend(),
      await createBackend("wasm", { threads: 1 }),
      await createBackend("wasm", { threads: 2 }),
    ];
    const run = async (be: Backend, fused: boolean) => {
      layerFusion.batchNormRelu = fused;
      const calls: string[] = [];
      const spied = new Proxy(be, {
        get(target, key) {
          if (key === "run")
            return ((kernel, args) => {
              calls.push(kernel);
              target.run(kernel, args);
            }) as Backend["run"];
          const value = Reflect.get(target, key);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      try {
        const net = Network.create(spied, smallConfig("det"), 5);
        const { x, y } = batch(be, 8, 72, 6);
        const metrics = be.alloc([2]);
        for (let s = 0; s < 3; s++) net.trainStep(x, y, 0.01, metrics);
        const trained = calls.splice(0);
        const test = await be.read(net.evaluateBatch(x, y, "binary", metrics));
        const state = await readModelState(net, true);
        const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer.slice(0)));
        const values = {
          test: bits(test),
          metrics: bits(await be.read(metrics)),
          state: state.map((t) => [t.name, bits(t.data)]),
        };
        net.dispose();
        return { values, trained, evaluated: calls };
      } finally {
        layerFusion.batchNormRelu = true;
      }
    };
    for (const be of backends) {
      const fused = await run(be, true),
        apart = await run(be, false);
      expect(fused.values, be.description).toEqual(apart.values);
      expect(fused.trained.filter((k) => k === "relu" || k === "reluBackward")).toEqual([]);
      expect(apart.trained.filter((k) => k === "relu").length).toBe(3 * 2); // two ReLUs a step
      expect(fused.evaluated.filter((k) => k === "relu").length).toBe(2); // at test time each layer runs its own
      await be.close();
    }
  });
});

describe("training and state", () => {
  it("learns a synthetic task and round-trips its state through readModelState/writeModelState", async () => {
    const be = await createBackend("wasm", { threads: 2 });
    // class = which quadrant of a 6x6x2 image holds a bright blob
    const n = 200,
      rng = new Xoshiro128(21);
    const xs = new Float32Array(n * 72),
      ys = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const c = i % 4;
      ys[i] = c;
      for (let p = 0; p < 72; p++) {
        const row = Math.floor(p / 12),
          col = Math.floor((p % 12) / 2);
        const inQuadrant = row < 3 === c < 2 && col < 3 === (c % 2 === 0);
        xs[i * 72 + p] = rng.uniform(-0.5, 0.5) + (inQuadrant ? 1 : 0);
      }
    }
    const net = Network.create(be, smallConfig("det"), 5);
    const x = be.alloc([50, 72]),
      y = be.alloc([50]),
      metrics = be.alloc([2]);
    const errors: number[] = [];
    for (let epoch = 0; epoch < 8; epoch++) {
      be.run("fill", { out: metrics, value: 0 });
      for (let s = 0; s < n; s += 50) {
        be.upload(x, xs.subarray(s * 72, (s + 50) * 72));
        be.upload(y, ys.subarray(s, s + 50));
        net.trainStep(x, y, 0.01, metrics);
      }
      errors.push((await be.read(metrics))[1] / n);
    }
    expect(errors.at(-1)!, errors.join(", ")).toBeLessThan(0.1);
    expect(errors[0]).toBeGreaterThan(errors.at(-1)!);
    // the state of a fresh network, overwritten with this one's, gives the same test-time logits
    const copy = Network.create(be, smallConfig("det"), 99);
    writeModelState(copy, await readModelState(net, true), true, "memory");
    be.upload(x, xs.subarray(0, 50 * 72));
    expect(Array.from(await be.read(copy.forward(x, "binary")))).toEqual(
      Array.from(await be.read(net.forward(x, "binary"))),
    );
    net.dispose();
    copy.dispose();
    await be.close();
  });
});

describe("layers used out of order", () => {
  it("backward before forward is a UsageError naming the layer, for every kind of layer", async () => {
    const { Relu } = await import("../src/nn/relu.js");
    const { MaxPool2D } = await import("../src/nn/maxPool.js");
    const { Dropout } = await import("../src/nn/dropout.js");
    const { Reshape } = await import("../src/nn/reshape.js");
    const { BatchNorm } = await import("../src/nn/batchNorm.js");
    const be = new ReferenceBackend();
    const dy = be.alloc([2, 4]);
    const layers = [
      new Relu(be, "relu0"),
      new MaxPool2D(be, "pool0", [2, 2]),
      new Dropout(be, "drop0", 0.5, 9),
      new Reshape("flat0", [4]),
      new Dense(be, "dense0", {
        inputs: 4,
        units: 4,
        binarization: "det",
        H: 1,
        bias: false,
        inputGrad: true,
        randomSlot: 0,
      }),
      new BatchNorm(be, "bn0", 4, BN),
    ];
    for (const layer of layers) {
      expect(() => layer.backward(dy), layer.name).toThrow(UsageError);
      expect(() => layer.backward(dy), layer.name).toThrow(
        new RegExp(`^${layer.name}: backward called before a (training )?forward`),
      );
      layer.dispose();
    }
  });
});
