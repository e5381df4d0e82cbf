import type { Backend } from "../backends/backend.js";
import type { Tensor } from "../core/tensor.js";
import type { Binarization } from "./binarization.js";
import type { ForwardContext } from "./layer.js";

/** The options a BinaryConnect layer (dense, conv2d) has beyond its shape. */
export interface BinaryLayerOptions {
  binarization: Binarization;
  /** Binary weights are +-H; latent weights are clipped to [-H, H] (unless clip is false). */
  H: number;
  /** Clip the real weights to [-H, H] after each update (default true). */
  clip?: boolean;
  /** The factor on the weights' Adam step: "glorot" (default, paper section 2.4) or a number. */
  lrScale?: "glorot" | number;
  /** A bias per output (useless before batch norm: its gradient is zero, so the paper's networks have none). */
  bias: boolean;
  /** Whether backward must compute dL/dx (false for the first layer). */
  inputGrad: boolean;
  /** Slot of this layer's random stream (stochastic binarization). */
  randomSlot: number;
}

/**
 * The weights a forward pass of a BinaryConnect layer (Dense, Conv2D) uses (paper sections
 * 2.3 and 2.6): Wb = binarize(W) into `wb` when the pass thresholds (training in det mode,
 * test time "binary") or samples (training in stoch mode, test time "sample"); else W itself
 * (test time "real"). A layer with real weights (mode none) always uses W: in a network that
 * mixes real and binary layers, the test-time mode chooses the binary layers' weights only. The gradient with respect to Wb is applied
 * to W unchanged (straight-through), so the layer's backward uses the returned tensor.
 */
export function weightsForPass(
  backend: Backend,
  W: Tensor,
  wb: Tensor,
  mode: Binarization,
  H: number,
  ctx: ForwardContext,
  slot: number,
): Tensor {
  if (mode === "none") return W;
  const sample = ctx.weights === "sample" || (ctx.weights === "train" && mode === "stoch");
  const threshold = ctx.weights === "binary" || (ctx.weights === "train" && mode === "det");
  if (!sample && !threshold) return W;
  backend.run("binarize", { w: W, out: wb, mode: sample ? "stoch" : "det", H, key: ctx.key(slot) });
  return wb;
}
