import { reshape, type Shape, type Tensor } from "../core/tensor.js";
import { savedByForward, type ForwardContext, type Layer } from "./layer.js";
import type { Param } from "./param.js";

/**
 * A change of shape without a copy (a view of the same buffer, core/tensor.ts `reshape`):
 * rows of features to NHWC images at a network's input, and images to rows before the first
 * dense layer ("flatten": [N, H, W, C] -> [N, H W C], NHWC order). backward reshapes dy back.
 */
export class Reshape implements Layer {
  private inputShape: Shape | null = null;
  /** `shape` excludes the batch axis: [H, W, C] (to images) or [F] (flatten). */
  constructor(
    readonly name: string,
    readonly shape: readonly number[],
  ) {}

  forward(x: Tensor, _ctx: ForwardContext): Tensor {
    this.inputShape = x.shape;
    return reshape(x, [x.shape[0], ...this.shape]);
  }

  backward(dy: Tensor): Tensor {
    return reshape(dy, savedByForward(this.inputShape, this.name));
  }

  params(): Param[] {
    return [];
  }

  buffers(): { name: string; tensor: Tensor }[] {
    return [];
  }

  dispose(): void {}
}
