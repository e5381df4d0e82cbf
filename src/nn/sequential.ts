import type { Backend } from "../backends/backend.js";
import { streamKey } from "../core/rng.js";
import type { Tensor } from "../core/tensor.js";
import { Adam, type AdamOptions } from "../optim/adam.js";
import { BatchNorm } from "./batchNorm.js";
import type { ForwardContext, Layer, WeightMode } from "./layer.js";
import type { Param } from "./param.js";
import { Relu } from "./relu.js";
import { Workspace } from "./workspace.js";

/**
 * A BinaryConnect network as a chain of layers on one backend, with its loss, optimizer and
 * random streams: the part shared by the MLP (mlp.ts) and the general network (network.ts).
 * Each training step uses stream keys streamKey(seed, step * slotsPerStep + slot), so a run is
 * reproducible from its seed and resumes exactly from a checkpoint (which stores the step).
 */
export abstract class Sequential {
  readonly optimizer: Adam;
  private readonly ws: Workspace;
  /** The logits of the last training step (for tests and diagnostics). */
  lastLogits: Tensor | null = null;

  protected constructor(
    readonly backend: Backend,
    readonly layers: Layer[],
    readonly seed: number,
    /** Random-stream slots reserved per step (a layer's slot is below this). */
    private readonly slotsPerStep: number,
    adam: AdamOptions,
  ) {
    this.optimizer = new Adam(backend, this.params(), adam);
    this.ws = new Workspace(backend);
    pairBatchNormRelus(layers);
  }

  /** Number of classes (the width of the logits). */
  abstract get classes(): number;

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

  /** Forward pass of x [B, features]; returns the logits [B, classes] (a workspace tensor of the last layer). */
  forward(x: Tensor, weights: WeightMode, keyCounter = this.step): Tensor {
    const ctx: ForwardContext = {
      weights,
      key: (slot) => streamKey(this.seed, keyCounter * this.slotsPerStep + slot),
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
  evaluateBatch(
    x: Tensor,
    labels: Tensor,
    weights: Exclude<WeightMode, "train">,
    metrics: Tensor,
    keyCounter?: number,
  ): Tensor {
    const logits = this.forward(x, weights, keyCounter);
    this.backend.run("squareHingeLoss", { logits, labels, grad: null, metrics });
    return logits;
  }

  dispose(): void {
    for (const l of this.layers) l.dispose();
    this.ws.dispose();
  }
}

/** Tells each batch norm followed by a ReLU, and that ReLU, of each other: training runs the pair in the batch norm's kernel calls (batchNorm.ts, layerFusion). */
function pairBatchNormRelus(layers: readonly Layer[]): void {
  for (let i = 0; i + 1 < layers.length; i++) {
    const [bn, relu] = [layers[i], layers[i + 1]];
    if (bn instanceof BatchNorm && relu instanceof Relu) {
      bn.reluAfter = relu;
      relu.fusedAfter = bn;
    }
  }
}
