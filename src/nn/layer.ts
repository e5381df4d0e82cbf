import type { Backend } from "../backends/backend.js";
import { UsageError } from "../core/errors.js";
import type { Tensor } from "../core/tensor.js";
import type { Param } from "./param.js";
import { Workspace } from "./workspace.js";

/**
 * Which weights a forward pass uses (paper section 2.6):
 * - "train": training; binarized weights are sampled/thresholded per the layer's mode;
 * - "binary": test time with deterministic binary weights Wb = sign(W) * H;
 * - "real": test time with the real-valued weights W;
 * - "sample": test time with one stochastic binarization (for ensembles).
 */
export type WeightMode = "train" | "binary" | "real" | "sample";

export interface ForwardContext {
  readonly weights: WeightMode;
  /** Key of the random stream for a layer's slot (counter-based RNG, see core/rng.ts). */
  key(slot: number): number;
}

/**
 * A layer is a forward/backward pair of functions over backend tensors, in the style of
 * llm.c: forward saves what backward needs; backward takes dL/dy and returns dL/dx (or null
 * when the layer's input needs no gradient) and writes its parameters' gradients.
 */
export interface Layer {
  readonly name: string;
  forward(x: Tensor, ctx: ForwardContext): Tensor;
  backward(dy: Tensor): Tensor | null;
  /** Trainable parameters (with gradients and Adam moments). */
  params(): Param[];
  /** Non-trainable state saved in checkpoints (batch-norm running statistics). */
  buffers(): { name: string; tensor: Tensor }[];
  /** Frees every tensor. */
  dispose(): void;
}

/** What a forward pass saved for backward; a UsageError when backward comes first. */
export function savedByForward<T>(value: T | null | undefined, layer: string, forward = "forward"): T {
  if (value === null || value === undefined)
    throw new UsageError(
      `${layer}: backward called before a ${forward}`,
      "run forward on the batch first (Sequential.trainStep does both)",
    );
  return value;
}

/** A layer without parameters or checkpointed state (ReLU, max pooling, dropout); its outputs live in a Workspace. */
export abstract class ParameterFreeLayer implements Layer {
  protected readonly ws: Workspace;
  constructor(
    protected readonly backend: Backend,
    readonly name: string,
  ) {
    this.ws = new Workspace(backend);
  }
  abstract forward(x: Tensor, ctx: ForwardContext): Tensor;
  abstract backward(dy: Tensor): Tensor | null;
  params(): Param[] {
    return [];
  }
  buffers(): { name: string; tensor: Tensor }[] {
    return [];
  }
  dispose(): void {
    this.ws.dispose();
  }
}
