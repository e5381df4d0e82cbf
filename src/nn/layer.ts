import type { Tensor } from "../core/tensor.js";
import type { Param } from "./param.js";

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
