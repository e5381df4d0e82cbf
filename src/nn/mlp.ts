import type { Backend } from "../backends/backend.js";
import { Xoshiro128, streamKey } from "../core/rng.js";
import type { Tensor } from "../core/tensor.js";
import type { BatchNormVariant } from "../kernels/contract.js";
import { Adam, ADAM_DEFAULTS, type AdamOptions } from "../optim/adam.js";
import { BatchNorm } from "./batchNorm.js";
import type { Binarization } from "./binarization.js";
import { Dense } from "./dense.js";
import { Dropout } from "./dropout.js";
import type { ForwardContext, Layer, WeightMode } from "./layer.js";
import { glorotUniformBound, type Param } from "./param.js";
import { Relu } from "./relu.js";
import { Workspace } from "./workspace.js";

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
 * A BinaryConnect multilayer perceptron on one backend: layers, loss, optimizer, random streams.
 * Each training step uses stream keys streamKey(seed, step * 16 + slot), so a run is
 * reproducible from its seed and resumes exactly from a checkpoint (which stores the step).
 */
export class Mlp {
  readonly layers: Layer[];
  readonly dense: Dense[];
  readonly optimizer: Adam;
  private readonly ws: Workspace;
  /** The logits of the last training step (for tests and diagnostics). */
  lastLogits: Tensor | null = null;

  private constructor(readonly backend: Backend, readonly config: MlpConfig, readonly seed: number) {
    const { layers, dense } = buildLayers(backend, config);
    this.layers = layers;
    this.dense = dense;
    this.optimizer = new Adam(backend, this.params(), config.adam ?? ADAM_DEFAULTS);
    this.ws = new Workspace(backend);
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

  params(): Param[] {
    return this.layers.flatMap((l) => l.params());
  }

  buffers(): { name: string; tensor: Tensor }[] {
    return this.layers.flatMap((l) => l.buffers());
  }

  /** Steps taken so far (Adam's t). */
  get step(): number {
    return this.optimizer.t;
  }

  /** Forward pass; returns the logits [B, classes] (a workspace tensor of the last layer). */
  forward(x: Tensor, weights: WeightMode, keyCounter = this.step): Tensor {
    const ctx: ForwardContext = {
      weights,
      key: (slot) => streamKey(this.seed, keyCounter * SLOTS_PER_STEP + slot),
    };
    let h = x;
    for (const layer of this.layers) h = layer.forward(h, ctx);
    return h;
  }

  /**
   * One BinaryConnect training step (paper Algorithm 1): binarize, forward, square hinge loss
   * (accumulated into metrics = [sum of losses, errors]), backward with straight-through
   * gradients, Adam update with the Glorot scale, clip.
   */
  trainStep(x: Tensor, labels: Tensor, lr: number, metrics: Tensor): void {
    const logits = this.forward(x, "train");
    this.lastLogits = logits;
    const grad = this.ws.get("dlogits", logits.shape);
    this.backend.run("squareHingeLoss", { logits, labels, grad, metrics });
    let g: Tensor | null = grad;
    for (let i = this.layers.length - 1; i >= 0 && g; i--) g = this.layers[i].backward(g);
    this.optimizer.step(lr);
  }

  /** Accumulates loss and errors of a batch at test time into metrics (no update). */
  evaluateBatch(x: Tensor, labels: Tensor, weights: Exclude<WeightMode, "train">, metrics: Tensor, keyCounter?: number): Tensor {
    const logits = this.forward(x, weights, keyCounter);
    this.backend.run("squareHingeLoss", { logits, labels, grad: null, metrics });
    return logits;
  }

  dispose(): void {
    for (const l of this.layers) l.dispose();
    this.ws.dispose();
  }
}

function buildLayers(backend: Backend, config: MlpConfig): { layers: Layer[]; dense: Dense[] } {
  const layers: Layer[] = [];
  const dense: Dense[] = [];
  const sizes = [...config.hidden, config.classes];
  if (sizes.length > DROPOUT_SLOT) throw new Error(`at most ${DROPOUT_SLOT} dense layers are supported`);
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
    dense.push(d);
    layers.push(d, new BatchNorm(backend, `bn${i}`, units, config.batchNorm));
    if (i < sizes.length - 1) {
      layers.push(new Relu(backend, `relu${i}`));
      addDropout(config.dropout.hidden, `dropout${i}`);
    }
    inputs = units;
  });
  return { layers, dense };
}
