import type { Backend } from "../backends/backend.js";
import type { Tensor } from "../core/tensor.js";
import { weightsForPass, type BinaryLayerOptions } from "./binaryWeights.js";
import type { ForwardContext, Layer } from "./layer.js";
import { binaryUpdate, disposeParams, makeParam, type Param } from "./param.js";
import { Workspace } from "./workspace.js";

/** The weight tensor of a BinaryConnect layer: its shape (the outputs last) and Glorot fans. */
export interface BinaryWeightShape {
  shape: number[];
  fanIn: number;
  fanOut: number;
}

/**
 * What the BinaryConnect layers (Dense, Conv2D; paper sections 2.3-2.4) share: the real weights
 * W (with the Glorot learning-rate scale and clipping of a binary weight, unless binarization is
 * none), an optional bias b per output (the last axis of W), the buffer that a binarizing pass
 * writes Wb into, and the workspace of the layer's outputs. The subclasses compute forward and
 * backward with the weights that weightsFor chose.
 */
export abstract class BinaryLayer<O extends BinaryLayerOptions> implements Layer {
  readonly W: Param;
  readonly b: Param | null;
  /** The weights used by the last forward pass (W itself when they are real). */
  protected wUsed: Tensor;
  protected readonly wb: Tensor;
  protected readonly ws: Workspace;
  protected x: Tensor | null = null;

  protected constructor(
    protected readonly backend: Backend,
    readonly name: string,
    readonly opts: O,
    { shape, fanIn, fanOut }: BinaryWeightShape,
  ) {
    const binary = binaryUpdate(opts, fanIn, fanOut);
    this.W = makeParam(backend, `${name}.W`, shape, binary);
    this.b = opts.bias ? makeParam(backend, `${name}.b`, [shape[shape.length - 1]], null) : null;
    this.wb = backend.alloc(shape);
    this.wUsed = this.W.value;
    this.ws = new Workspace(backend);
  }

  abstract forward(x: Tensor, ctx: ForwardContext): Tensor;
  abstract backward(dy: Tensor): Tensor | null;

  /** Wb per the weight mode: binarize into the Wb buffer, or W itself when real. */
  protected weightsFor(ctx: ForwardContext): Tensor {
    const { binarization, H, randomSlot } = this.opts;
    return weightsForPass(this.backend, this.W.value, this.wb, binarization, H, ctx, randomSlot);
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
