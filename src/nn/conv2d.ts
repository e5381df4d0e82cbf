import type { Backend } from "../backends/backend.js";
import { reshape, type Tensor } from "../core/tensor.js";
import { convOutputSize, type Pair } from "../kernels/contract.js";
import { BinaryLayer } from "./binaryLayer.js";
import type { BinaryLayerOptions } from "./binaryWeights.js";
import { savedByForward, type ForwardContext } from "./layer.js";

export interface Conv2DOptions extends BinaryLayerOptions {
  inChannels: number;
  filters: number;
  /** Kernel size [kh, kw]. */
  kernel: Pair;
  stride: Pair;
  /** Zero padding on each side [rows, cols] (3x3 with pad 1 keeps the size, as in the paper). */
  pad: Pair;
}

/**
 * 2-D convolution with BinaryConnect weights (paper sections 2.3-2.4; the CNNs of section 3),
 * NHWC, filters W [kh, kw, Cin, Cout]:
 *   forward:  y = conv2d(x, Wb) (+ b),  Wb = binarize(W) (or W when binarization is none)
 *   backward: dWb = conv2dBackwardFilter(x, dy);  dx = conv2dBackwardInput(dy, Wb);  db = sum over N,H,W of dy
 * Straight-through: the gradient with respect to Wb is applied to W. Glorot learning-rate
 * scale with fan_in = kh kw Cin and fan_out = kh kw Cout (as Lasagne counts a conv layer's fans).
 */
export class Conv2D extends BinaryLayer<Conv2DOptions> {
  constructor(backend: Backend, name: string, opts: Conv2DOptions) {
    const {
      inChannels: C,
      filters: Co,
      kernel: [kh, kw],
    } = opts;
    super(backend, name, opts, { shape: [kh, kw, C, Co], fanIn: kh * kw * C, fanOut: kh * kw * Co });
  }

  /** The output shape [N, Ho, Wo, Cout] for an input [N, H, W, Cin]. */
  outputShape([N, H, W]: readonly number[]): [number, number, number, number] {
    const { kernel, stride, pad } = this.opts;
    return [
      N,
      convOutputSize(H, kernel[0], stride[0], pad[0]),
      convOutputSize(W, kernel[1], stride[1], pad[1]),
      this.opts.filters,
    ];
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    const { stride, pad } = this.opts;
    const w = this.weightsFor(ctx);
    const y = this.ws.get("y", this.outputShape(x.shape));
    this.backend.run("conv2d", { x, w, out: y, stride, pad });
    if (this.b) {
      const rows = reshape(y, [y.size / this.opts.filters, this.opts.filters]);
      this.backend.run("biasAdd", { x: rows, bias: this.b.value, out: rows });
    }
    this.x = x;
    this.wUsed = w;
    return y;
  }

  backward(dy: Tensor): Tensor | null {
    const x = savedByForward(this.x, this.name);
    const { stride, pad } = this.opts;
    this.backend.run("conv2dBackwardFilter", { x, dy, dw: this.W.grad, stride, pad });
    if (this.b)
      this.backend.run("columnSum", {
        x: reshape(dy, [dy.size / this.opts.filters, this.opts.filters]),
        out: this.b.grad,
      });
    if (!this.opts.inputGrad) return null;
    const dx = this.ws.get("dx", x.shape);
    this.backend.run("conv2dBackwardInput", { dy, w: this.wUsed, dx, stride, pad });
    return dx;
  }
}
