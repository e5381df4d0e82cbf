import type { Backend } from "../backends/backend.js";
import { reshape, type Tensor } from "../core/tensor.js";
import { convOutputSize, type Pair } from "../kernels/contract.js";
import { weightsForPass, type BinaryLayerOptions } from "./binaryWeights.js";
import { makeParam } from "./dense.js";
import { savedByForward, type ForwardContext, type Layer } from "./layer.js";
import { binaryUpdate, disposeParams, type Param } from "./param.js";
import { Workspace } from "./workspace.js";

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
export class Conv2D implements Layer {
  readonly W: Param;
  readonly b: Param | null;
  private wUsed: Tensor;
  private readonly wb: Tensor;
  private readonly ws: Workspace;
  private x: Tensor | null = null;

  constructor(
    private readonly backend: Backend,
    readonly name: string,
    readonly opts: Conv2DOptions,
  ) {
    const {
      inChannels: C,
      filters: Co,
      kernel: [kh, kw],
    } = opts;
    const binary = binaryUpdate(opts, kh * kw * C, kh * kw * Co);
    this.W = makeParam(backend, `${name}.W`, [kh, kw, C, Co], binary);
    this.b = opts.bias ? makeParam(backend, `${name}.b`, [Co], null) : null;
    this.wb = backend.alloc([kh, kw, C, Co]);
    this.wUsed = this.W.value;
    this.ws = new Workspace(backend);
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
    const { binarization, H, randomSlot, stride, pad } = this.opts;
    const w = weightsForPass(this.backend, this.W.value, this.wb, binarization, H, ctx, randomSlot);
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

  params(): Param[] {
    return this.b ? [this.W, this.b] : [this.W];
  }

  buffers(): { name: string; tensor: Tensor }[] {
    return [];
  }

  dispose(): void {
    disposeParams(this.backend, this.params());
    this.backend.dispose(this.wb);
    this.ws.dispose();
  }
}
