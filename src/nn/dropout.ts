import type { Backend } from "../backends/backend.js";
import type { Tensor } from "../core/tensor.js";
import type { ForwardContext, Layer } from "./layer.js";
import type { Param } from "./param.js";
import { Workspace } from "./workspace.js";

/**
 * Inverted dropout (Srivastava et al. 2014), the "50% dropout" baseline of the paper's table:
 * training: y = x * mask, mask = [u >= p] / (1 - p) from a seeded stream; test: y = x.
 * backward: dx = dy * mask.
 */
export class Dropout implements Layer {
  private readonly ws: Workspace;
  private mask: Tensor | null = null;
  constructor(private readonly backend: Backend, readonly name: string, readonly p: number, private readonly randomSlot: number) {
    this.ws = new Workspace(backend);
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
    if (!this.mask) throw new Error(`${this.name}: backward before a training forward`);
    const dx = this.ws.get("dx", dy.shape);
    this.backend.run("multiply", { a: dy, b: this.mask, out: dx });
    return dx;
  }
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
