import type { Backend } from "../backends/backend.js";
import type { Tensor } from "../core/tensor.js";
import type { ForwardContext, Layer } from "./layer.js";
import type { Param } from "./param.js";
import { Workspace } from "./workspace.js";

/** y = max(x, 0);  dx = dy * [x > 0]. */
export class Relu implements Layer {
  private readonly ws: Workspace;
  private x: Tensor | null = null;
  constructor(private readonly backend: Backend, readonly name: string) {
    this.ws = new Workspace(backend);
  }
  forward(x: Tensor, _ctx: ForwardContext): Tensor {
    const y = this.ws.get("y", x.shape);
    this.backend.run("relu", { x, out: y });
    this.x = x;
    return y;
  }
  backward(dy: Tensor): Tensor {
    if (!this.x) throw new Error(`${this.name}: backward before forward`);
    const dx = this.ws.get("dx", dy.shape);
    this.backend.run("reluBackward", { x: this.x, dy, dx });
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
