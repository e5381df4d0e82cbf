import { OptionError } from "../core/errors.js";
import type { Backend } from "../backends/backend.js";
import { Xoshiro128 } from "../core/rng.js";
import type { BatchNormVariant } from "../kernels/contract.js";
import { ADAM_DEFAULTS, type AdamOptions } from "../optim/adam.js";
import { BatchNorm } from "./batchNorm.js";
import type { Binarization } from "./binarization.js";
import { Dense } from "./dense.js";
import { Dropout } from "./dropout.js";
import type { Layer } from "./layer.js";
import { glorotUniformBound } from "./param.js";
import { Relu } from "./relu.js";
import { Sequential } from "./sequential.js";

/** The permutation-invariant MLP of the paper: (Dense -> BN -> ReLU) x hidden, then Dense -> BN. */
export interface MlpConfig {
  inputs: number;
  hidden: number[];
  classes: number;
  binarization: Binarization;
  /** Binary weight magnitude (1 in the authors' code). */
  H: number;
  /** Dropout probabilities on the input and on each hidden layer's output (0 = none). */
  dropout: { input: number; hidden: number };
  batchNorm: { variant: BatchNormVariant; eps: number; momentum: number };
  adam?: AdamOptions;
}

/** Random-stream slots: dense layer d uses slot d; dropout k uses slot 8 + k (16 slots per step). */
const DROPOUT_SLOT = 8;
export const SLOTS_PER_STEP = 16;

/**
 * A BinaryConnect multilayer perceptron on one backend: layers, loss, optimizer, random streams
 * (the machinery is Sequential's; random slots: dense layer d uses slot d, dropout k slot 8 + k).
 */
export class Mlp extends Sequential {
  readonly dense: Dense[];

  private constructor(backend: Backend, readonly config: MlpConfig, seed: number) {
    super(backend, buildLayers(backend, config), seed, SLOTS_PER_STEP, config.adam ?? ADAM_DEFAULTS);
    this.dense = this.layers.filter((l): l is Dense => l instanceof Dense);
  }

  /**
   * A new network with weights initialised from `seed`: binarized layers U(-H, H) (authors'
   * code), real-weight layers Glorot-uniform (Lasagne's default).
   */
  static create(backend: Backend, config: MlpConfig, seed: number): Mlp {
    const mlp = new Mlp(backend, config, seed);
    const rng = new Xoshiro128(seed);
    for (const d of mlp.dense) {
      const { inputs, units } = d.opts;
      const bound = config.binarization === "none" ? glorotUniformBound(inputs, units) : config.H;
      const w = new Float32Array(inputs * units);
      for (let i = 0; i < w.length; i++) w[i] = rng.uniform(-bound, bound);
      backend.upload(d.W.value, w);
    }
    return mlp;
  }

  get classes(): number {
    return this.config.classes;
  }
}

function buildLayers(backend: Backend, config: MlpConfig): Layer[] {
  const layers: Layer[] = [];
  const sizes = [...config.hidden, config.classes];
  if (sizes.length > DROPOUT_SLOT) throw new OptionError(`at most ${DROPOUT_SLOT} dense layers are supported, found ${sizes.length}`);
  let dropouts = 0;
  const addDropout = (p: number, name: string) => {
    if (p > 0) layers.push(new Dropout(backend, name, p, DROPOUT_SLOT + dropouts++));
  };
  addDropout(config.dropout.input, "dropout_in");
  let inputs = config.inputs;
  sizes.forEach((units, i) => {
    const d = new Dense(backend, `dense${i}`, {
      inputs, units, binarization: config.binarization, H: config.H, bias: false, inputGrad: i > 0, randomSlot: i,
    });
    layers.push(d, new BatchNorm(backend, `bn${i}`, units, config.batchNorm));
    if (i < sizes.length - 1) {
      layers.push(new Relu(backend, `relu${i}`));
      addDropout(config.dropout.hidden, `dropout${i}`);
    }
    inputs = units;
  });
  return layers;
}
