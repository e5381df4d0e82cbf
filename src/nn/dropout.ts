import type { Backend } from "../backends/backend.js";
import type { Tensor } from "../core/tensor.js";
import { ParameterFreeLayer, savedByForward, type ForwardContext } from "./layer.js";

/**
 * Inverted dropout (Srivastava et al. 2014), the "50% dropout" baseline of the paper's table:
 * training: y = x * mask, mask = [u >= p] / (1 - p) from a seeded stream; test: y = x.
 * backward: dx = dy * mask.
 */
export class Dropout extends ParameterFreeLayer {
  private mask: Tensor | null = null;
  constructor(
    backend: Backend,
    name: string,
    readonly p: number,
    private readonly randomSlot: number,
  ) {
    super(backend, name);
  }
  forward(x: Tensor, ctx: ForwardContext): Tensor {
    if (ctx.weights !== "train" || this.p === 0) return x;
    const y = this.ws.get("y", x.shape);
    this.mask = this.ws.get("mask", x.shape);
    this.backend.run("dropout", { x, out: y, mask: this.mask, p: this.p, key: ctx.key(this.randomSlot) });
    return y;
  }
  backward(dy: Tensor): Tensor {
    if (this.p === 0) return dy;
    const mask = savedByForward(this.mask, this.name, "training forward");
    const dx = this.ws.get("dx", dy.shape);
    this.backend.run("multiply", { a: dy, b: mask, out: dx });
    return dx;
  }
}
