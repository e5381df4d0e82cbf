import type { Backend } from "../backends/backend.js";
import type { Tensor } from "../core/tensor.js";
import type { BatchNorm } from "./batchNorm.js";
import { ParameterFreeLayer, savedByForward, type ForwardContext } from "./layer.js";

/**
 * y = max(x, 0);  dx = dy * [x > 0]. After a batch norm that ran this ReLU in its own call
 * (fusedAfter.ranRelu: training, batchNorm.ts's layerFusion), x is already max(., 0): forward
 * passes it on and backward passes dy back (the batch norm's backward takes the ReLU's gradient).
 */
export class Relu extends ParameterFreeLayer {
  private x: Tensor | null = null;
  private passedOn = false;
  /** The batch norm right before this layer in its network (Sequential sets it), which may run this ReLU. */
  fusedAfter: BatchNorm | null = null;
  constructor(backend: Backend, name: string) {
    super(backend, name);
  }
  forward(x: Tensor, ctx: ForwardContext): Tensor {
    this.passedOn = ctx.weights === "train" && this.fusedAfter !== null && this.fusedAfter.ranRelu;
    this.x = x;
    if (this.passedOn) return x;
    const y = this.ws.get("y", x.shape);
    this.backend.run("relu", { x, out: y });
    return y;
  }
  backward(dy: Tensor): Tensor {
    const x = savedByForward(this.x, this.name);
    if (this.passedOn) return dy;
    const dx = this.ws.get("dx", dy.shape);
    this.backend.run("reluBackward", { x, dy, dx });
    return dx;
  }
}
