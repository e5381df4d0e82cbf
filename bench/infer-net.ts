import { createBackend } from "../src/backends/index.js";
import type { SimdLevel } from "../src/backends/wasm/simd.js";
import { OptionError } from "../src/core/errors.js";
import { Xoshiro128 } from "../src/core/rng.js";
import { encodeOnnx } from "../src/export/onnx.js";
import type { BcnetDense, BcnetModel } from "../src/format/bcnet.js";
import { foldBatchNorm, type BatchNormState } from "../src/format/fold.js";
import { packSigns, unpackSigns } from "../src/format/pack.js";
import { scaleMeanOf, type Preprocessing } from "../src/format/preprocessing.js";
import { BinaryClassifier } from "../src/infer/index.js";
import { BatchNorm } from "../src/nn/batchNorm.js";
import { mlpNetwork } from "../src/nn/mlp.js";
import { Network } from "../src/nn/network.js";
import { mlpConfig } from "./mlp-step.js";
import { PeerUnavailable } from "./runner.js";
import { initialState, layerShapes, type MlpSpec } from "./spec.js";
import { packageVersion } from "./peers/version.js";

/**
 * The benchmarked inference network: the MNIST MLP of bench/spec.ts (784-1024-1024-1024-10)
 * with the shared start's weights binarized (sign(W)), an authors'-variant batch norm with
 * random parameters and running statistics, preprocessing x / 255 - mean. Every engine runs
 * exactly this network from its own representation: the .bcnet model (bits, folded batch
 * norm), our float32 training engine (W = +-1, batch norm layers), the ONNX graph.
 */
export interface InferNetwork {
  model: BcnetModel;
  onnx: Uint8Array;
  bn: BatchNormState[];
  /** Raw inputs 0..255, `batch` images. */
  pixels: Uint8Array;
}

export function inferNetwork(spec: MlpSpec): InferNetwork {
  const init = initialState(spec, 1);
  const rng = new Xoshiro128(5);
  const mean = Float32Array.from({ length: spec.inputs }, () => rng.uniform(0.1, 0.5));
  const shapes = layerShapes(spec);
  const bn = shapes.map(
    ([k, n]): BatchNormState => ({
      variant: "authors",
      eps: spec.bnEps,
      gamma: Float32Array.from({ length: n }, () => rng.uniform(0.5, 1.5)),
      beta: Float32Array.from({ length: n }, () => rng.uniform(-0.5, 0.5)),
      runningMean: Float32Array.from({ length: n }, () => rng.uniform(-1, 1)),
      runningScale: Float32Array.from({ length: n }, () => Math.sqrt(k) * rng.uniform(0.3, 0.6)),
    }),
  );
  const layers = shapes.map(
    ([k, n], i): BcnetDense => ({
      kind: "dense",
      inputs: k,
      units: n,
      activation: i < shapes.length - 1 ? "relu" : "identity",
      bits: packSigns(init.weights[i], k, n),
      ...foldBatchNorm(bn[i], spec.H),
    }),
  );
  const preprocessing: Preprocessing = {
    shape: [spec.inputs],
    steps: [
      { kind: "scale", factor: 1 / 255 },
      { kind: "subtractMean", mean },
    ],
  };
  const model: BcnetModel = { inputs: spec.inputs, preprocessing, layers, info: { producer: "bench" } };
  const onnx = encodeOnnx({
    name: "bench",
    preprocessing,
    info: model.info,
    layers: layers.map((l, i) => ({
      kind: "dense",
      inputs: l.inputs,
      units: l.units,
      bn: bn[i],
      relu: l.activation === "relu",
      weights: unpackSigns(l.bits, l.inputs, l.units, spec.H),
    })),
  });
  return { model, onnx, bn, pixels: Uint8Array.from(init.x, (u) => Math.floor(u * 256)) };
}

/** One way of running the network: scores [count, classes] of the first `count` images. */
export interface InferRunner {
  readonly name: string;
  readonly description: string;
  predict(count: number): Promise<Float32Array>;
  close(): Promise<void>;
}

/** binaryconnect/infer: the packed-bit lookup-table kernel (WebAssembly SIMD, one thread). */
export async function ourRunner(net: InferNetwork): Promise<InferRunner> {
  const c = await BinaryClassifier.load(net.model, { engine: "wasm" });
  return {
    name: "binaryconnect/infer (1-bit LUT)",
    description: "wasm SIMD128 lookup-table kernel, 1 thread",
    predict: async (count) => c.predict(net.pixels.subarray(0, count * c.inputs), count).scores,
    close: async () => {},
  };
}

/**
 * Our float32 forward pass of the same network: the training engine's wasm backend (matmul,
 * batchNormInfer, relu) with W = +-1 as real weights, preprocessing on the host as ourRunner.
 */
export async function floatRunner(
  net: InferNetwork,
  spec: MlpSpec,
  threads: number,
  simd: SimdLevel = "baseline",
): Promise<InferRunner> {
  const backend = await createBackend("wasm", { threads, simd });
  const mlp = Network.create(backend, mlpNetwork(mlpConfig(spec, "none", "authors")), 1);
  net.model.layers.forEach((l, i) => {
    if (l.kind !== "dense") throw new OptionError("floatRunner: an MLP only");
    backend.upload(mlp.weighted[i].W.value, unpackSigns(l.bits, l.inputs, l.units, spec.H));
  });
  mlp.layers
    .filter((l): l is BatchNorm => l instanceof BatchNorm)
    .forEach((b, i) => {
      const s = net.bn[i];
      for (const [t, v] of [
        [b.gamma.value, s.gamma],
        [b.beta.value, s.beta],
        [b.runningMean, s.runningMean],
        [b.runningScale, s.runningScale],
      ] as const) {
        backend.upload(t, Float32Array.from(v));
      }
    });
  const { inputScale, mean } = scaleMeanOf(net.model.preprocessing, spec.inputs)!;
  const inputs = new Map<number, ReturnType<typeof backend.alloc>>();
  return {
    name: `float32 wasm forward (${simd === "relaxed" ? "relaxed FMA" : "SIMD128"}, ${threads} thread${threads > 1 ? "s" : ""})`,
    description: `binaryconnect's training engine, ${backend.description}, W = +-1 as float32`,
    predict: async (count) => {
      let x = inputs.get(count);
      if (!x) inputs.set(count, (x = backend.alloc([count, spec.inputs])));
      const host = new Float32Array(count * spec.inputs);
      for (let i = 0; i < host.length; i++) host[i] = net.pixels[i] * inputScale - mean[i % spec.inputs];
      backend.upload(x, host);
      return backend.read(mlp.forward(x, "real"));
    },
    close: async () => {
      mlp.dispose();
      await backend.close();
    },
  };
}

/** The exported ONNX graph in onnxruntime-web (WASM backend) or onnxruntime-node (CPU), one thread. */
export async function ortRunner(net: InferNetwork, which: "web" | "node"): Promise<InferRunner> {
  const pkg = which === "web" ? "onnxruntime-web" : "onnxruntime-node";
  type Ort = typeof import("onnxruntime-node");
  let ort: Ort;
  try {
    ort = (await import(pkg)) as Ort;
  } catch (e) {
    throw new PeerUnavailable(
      pkg,
      `cannot load ${pkg}: ${(e as Error).message.split("\n")[0]}`,
      `ONNXRUNTIME_NODE_INSTALL=skip npm install -D ${pkg}`,
    );
  }
  if (which === "web") Object.assign(ort.env.wasm, { numThreads: 1 });
  const session = await ort.InferenceSession.create(
    net.onnx,
    which === "web"
      ? { executionProviders: ["wasm"] }
      : { executionProviders: ["cpu"], intraOpNumThreads: 1, interOpNumThreads: 1 },
  );
  const pixels = Float32Array.from(net.pixels);
  return {
    name: which === "web" ? "onnxruntime-web (wasm)" : "onnxruntime-node (cpu)",
    description: `${pkg} ${packageVersion(pkg)}, 1 thread, the exported ONNX graph (float32 weights +-1)`,
    predict: async (count) => {
      const out = await session.run({
        pixels: new ort.Tensor("float32", pixels.subarray(0, count * net.model.inputs), [count, net.model.inputs]),
      });
      return out.scores.data as Float32Array;
    },
    close: () => session.release(),
  };
}
