import type { Backend } from "../backends/backend.js";
import type { Tensor } from "../core/tensor.js";
import { ParameterFreeLayer, savedByForward, type ForwardContext } from "./layer.js";

/** y = max(x, 0);  dx = dy * [x > 0]. */
export class Relu extends ParameterFreeLayer {
  private x: Tensor | null = null;
  constructor(backend: Backend, name: string) {
    super(backend, name);
  }
  forward(x: Tensor, _ctx: ForwardContext): Tensor {
    const y = this.ws.get("y", x.shape);
    this.backend.run("relu", { x, out: y });
    this.x = x;
    return y;
  }
  backward(dy: Tensor): Tensor {
    const x = savedByForward(this.x, this.name);
    const dx = this.ws.get("dx", dy.shape);
    this.backend.run("reluBackward", { x, dy, dx });
    return dx;
  }
}
