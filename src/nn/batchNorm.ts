import type { Backend } from "../backends/backend.js";
import { OptionError } from "../core/errors.js";
import type { Tensor } from "../core/tensor.js";
import type { BatchNormVariant } from "../kernels/contract.js";
import { savedByForward, type ForwardContext, type Layer } from "./layer.js";
import type { Relu } from "./relu.js";
import { disposeParams, makeParam, type Param } from "./param.js";
import { Workspace } from "./workspace.js";

/**
 * Which layer pairs a training step runs as one kernel call (benchmarks and tests switch them off
 * to compare): a batch norm followed by a ReLU (Sequential pairs them), as batchNormTrain and
 * batchNormBackward with `relu`: the same values as the two layers apart (the kernel contract),
 * one pass over the activations fewer each way.
 */
export const layerFusion = { batchNormRelu: true };

export interface BatchNormOptions {
  /** "authors": eps added to the std, EMA of the std (the paper's code); "standard": eps inside the sqrt. */
  variant: BatchNormVariant;
  eps: number;
  /** EMA factor of the running statistics (alpha: 0.15 MNIST, 0.1 CIFAR-10/SVHN). */
  momentum: number;
}

/** The options of batch norm's settings (bc.layers.batchNorm, and sequential's defaults). */
export const BATCH_NORM_KEYS = ["variant", "eps", "momentum"] as const;

/**
 * Throws an OptionError (naming `what`) on batch-norm settings out of their range: variant
 * "authors" or "standard", eps a finite number >= 0, momentum in [0, 1]. Fields left out pass.
 */
export function checkBatchNormOptions(opts: Partial<BatchNormOptions>, what: string): void {
  const { variant, eps, momentum } = opts;
  if (variant !== undefined && variant !== "authors" && variant !== "standard")
    throw new OptionError(
      `${what}: variant must be "authors" or "standard", found ${JSON.stringify(variant)}`,
      "authors: eps added to the std, as the paper's code; standard: eps inside the square root (Ioffe & Szegedy)",
    );
  if (eps !== undefined && !(typeof eps === "number" && Number.isFinite(eps) && eps >= 0))
    throw new OptionError(`${what}: eps must be a finite number >= 0, found ${JSON.stringify(eps)}`);
  if (momentum !== undefined && !(typeof momentum === "number" && momentum >= 0 && momentum <= 1))
    throw new OptionError(`${what}: momentum must be a number in [0, 1], found ${JSON.stringify(momentum)}`);
}

/**
 * Batch normalization over the last axis (Ioffe & Szegedy 2015; the authors' variant by
 * default, see the kernel contract for both formulas). gamma starts at 1, beta at 0, the
 * running mean at 0 and the running std (or variance) at 1.
 */
export class BatchNorm implements Layer {
  readonly gamma: Param;
  readonly beta: Param;
  readonly runningMean: Tensor;
  readonly runningScale: Tensor;
  private readonly mean: Tensor;
  private readonly variance: Tensor;
  private readonly ws: Workspace;
  private x: Tensor | null = null;
  /** The ReLU right after this layer in its network (Sequential sets it), which training runs in this layer's calls. */
  reluAfter: Relu | null = null;
  /** Whether the last forward pass applied reluAfter's ReLU (training, layerFusion on): its backward then takes that ReLU's gradient too. */
  private fusedRelu = false;

  constructor(
    private readonly backend: Backend,
    readonly name: string,
    readonly channels: number,
    readonly opts: BatchNormOptions,
  ) {
    this.gamma = makeParam(backend, `${name}.gamma`, [channels], null);
    this.beta = makeParam(backend, `${name}.beta`, [channels], null);
    this.runningMean = backend.alloc([channels]);
    this.runningScale = backend.alloc([channels]);
    this.mean = backend.alloc([channels]);
    this.variance = backend.alloc([channels]);
    backend.run("fill", { out: this.gamma.value, value: 1 });
    backend.run("fill", { out: this.runningScale, value: 1 });
    this.ws = new Workspace(backend);
  }

  /**
   * y = the normalized x; in training with a ReLU after it (reluAfter, layerFusion on), y =
   * max(that, 0): the ReLU's forward then passes y on, its backward passes dy back, and this
   * layer's backward takes the pair's gradient.
   */
  forward(x: Tensor, ctx: ForwardContext): Tensor {
    const y = this.ws.get("y", x.shape);
    const relu = ctx.weights === "train" && this.reluAfter !== null && layerFusion.batchNormRelu;
    this.fusedRelu = relu;
    const { variant, eps, momentum } = this.opts;
    const common = {
      x,
      gamma: this.gamma.value,
      beta: this.beta.value,
      out: y,
      runningMean: this.runningMean,
      runningScale: this.runningScale,
      variant,
      eps,
    };
    if (ctx.weights === "train") {
      this.backend.run("batchNormTrain", { ...common, mean: this.mean, variance: this.variance, momentum, relu });
      this.x = x;
    } else {
      this.backend.run("batchNormInfer", common);
    }
    return y;
  }

  /** Whether the last forward pass applied the ReLU after this layer (see forward). */
  get ranRelu(): boolean {
    return this.fusedRelu;
  }

  backward(dy: Tensor): Tensor {
    const x = savedByForward(this.x, this.name, "training forward");
    const dx = this.ws.get("dx", x.shape);
    this.backend.run("batchNormBackward", {
      x,
      dy,
      gamma: this.gamma.value,
      mean: this.mean,
      variance: this.variance,
      dx,
      dgamma: this.gamma.grad,
      dbeta: this.beta.grad,
      variant: this.opts.variant,
      eps: this.opts.eps,
      relu: this.fusedRelu,
      beta: this.beta.value,
    });
    return dx;
  }

  params(): Param[] {
    return [this.gamma, this.beta];
  }

  buffers(): { name: string; tensor: Tensor }[] {
    return [
      { name: `${this.name}.runningMean`, tensor: this.runningMean },
      { name: `${this.name}.runningScale`, tensor: this.runningScale },
    ];
  }

  dispose(): void {
    disposeParams(this.backend, this.params());
    for (const t of [this.runningMean, this.runningScale, this.mean, this.variance]) this.backend.dispose(t);
    this.ws.dispose();
  }
}
