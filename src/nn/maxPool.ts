import type { Backend } from "../backends/backend.js";
import type { Tensor } from "../core/tensor.js";
import { convOutputSize, type Pair } from "../kernels/contract.js";
import { ParameterFreeLayer, savedByForward, type ForwardContext } from "./layer.js";

/**
 * Max pooling over NHWC images (the paper's CNNs: 2x2, stride 2; Lasagne's MaxPool2DLayer,
 * ignore_border=True):
 *   forward:  y[n,i,j,c] = max of the window;  backward: dx[argmax] += dy (ties: the first
 *   maximum in row-major window order - see the maxPoolBackward kernel).
 */
export class MaxPool2D extends ParameterFreeLayer {
  private x: Tensor | null = null;
  constructor(
    backend: Backend,
    name: string,
    readonly window: Pair,
    readonly stride: Pair = window,
  ) {
    super(backend, name);
  }

  /** [N, Ho, Wo, C] for an input [N, H, W, C]. */
  outputShape([N, H, W, C]: readonly number[]): [number, number, number, number] {
    return [
      N,
      convOutputSize(H, this.window[0], this.stride[0], 0),
      convOutputSize(W, this.window[1], this.stride[1], 0),
      C,
    ];
  }

  forward(x: Tensor, _ctx: ForwardContext): Tensor {
    const y = this.ws.get("y", this.outputShape(x.shape));
    this.backend.run("maxPool", { x, out: y, window: this.window, stride: this.stride });
    this.x = x;
    return y;
  }

  backward(dy: Tensor): Tensor {
    const x = savedByForward(this.x, this.name);
    const dx = this.ws.get("dx", x.shape);
    this.backend.run("maxPoolBackward", { x, dy, dx, window: this.window, stride: this.stride });
    return dx;
  }
}
