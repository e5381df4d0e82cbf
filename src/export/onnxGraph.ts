import type { ModelInfo, PoolSpec } from "../format/bcnet.js";
import { foldBatchNorm, type BatchNormState } from "../format/fold.js";
import type { ImageShape } from "../format/shapes.js";

export const ONNX_INPUT = "pixels";
export const ONNX_OUTPUT = "scores";

/** A layer as the ONNX graph holds it: float weights (+-H for a binary layer, real ones otherwise), its batch norm (folded) and ReLU. */
export type OnnxLayer =
  | { kind: "dense"; inputs: number; units: number; /** [inputs, units] */ weights: Float32Array; bn: BatchNormState; relu: boolean }
  | {
    kind: "conv"; input: ImageShape; filters: number; kernel: readonly [number, number]; stride: readonly [number, number]; pad: readonly [number, number];
    pool: PoolSpec | null; /** [kh, kw, Cin, Cout], the training engine's layout */ weights: Float32Array; bn: BatchNormState; relu: boolean;
  }
  | { kind: "maxpool"; input: ImageShape; window: readonly [number, number]; stride: readonly [number, number] };

/** A network as the ONNX graph holds it: float weights, batch norm to fold, preprocessing. */
export interface OnnxNetwork {
  name: string;
  /** x' = x * inputScale - mean. */
  inputScale: number;
  mean: ArrayLike<number>;
  /** The input image of a network with convolutions (rows of the input are NHWC); absent for an MLP. */
  image?: ImageShape;
  layers: OnnxLayer[];
  info: ModelInfo;
}

export interface OnnxAttribute {
  name: string;
  ints: readonly number[];
}

export interface OnnxNode {
  op: string;
  inputs: string[];
  output: string;
  attributes: OnnxAttribute[];
}

export interface OnnxInitializer {
  name: string;
  dims: number[];
  data: Float32Array | BigInt64Array;
}

/**
 * The graph's nodes and initializers (opset 13):
 *   pixels [batch, inputs] -> Mul(inputScale) -> Sub(mean)
 *   [images: -> Reshape [batch, H, W, C] -> Transpose to NCHW]
 *   conv:    Conv(W [Cout, Cin, kh, kw], pads, strides) [-> MaxPool] -> Mul(a [C,1,1]) -> Add(b [C,1,1]) [-> Relu]
 *   maxpool: MaxPool(kernel_shape, strides)
 *   dense:   [after images: Transpose to NHWC -> Flatten] -> MatMul(W) -> Mul(a) -> Add(b) [-> Relu]
 *   -> scores [batch, classes]
 * with batch norm folded into a = gamma r and b = beta - a mean (src/format/fold.ts, H = 1: the
 * weights carry H). Flattening in NHWC order keeps the dense weights the training engine's.
 */
export function buildGraph(net: OnnxNetwork): { nodes: OnnxNode[]; initializers: OnnxInitializer[] } {
  const nodes: OnnxNode[] = [];
  const initializers: OnnxInitializer[] = [];
  const constant = (name: string, dims: number[], data: Float32Array | BigInt64Array) => {
    initializers.push({ name, dims, data });
    return name;
  };
  const op = (opType: string, inputs: string[], output: string, attributes: OnnxAttribute[] = []) => {
    nodes.push({ op: opType, inputs, output, attributes });
    return output;
  };
  const last = net.layers.length - 1;
  let x = op("Mul", [ONNX_INPUT, constant("input_scale", [], Float32Array.of(net.inputScale))], "scaled");
  x = op("Sub", [x, constant("input_mean", [net.mean.length], Float32Array.from(net.mean))], "x0");
  let nchw = false;
  if (net.layers[0].kind !== "dense") {
    const { height, width, channels } = net.image ?? { height: 0, width: 0, channels: 0 };
    x = op("Reshape", [x, constant("image_shape", [4], BigInt64Array.of(-1n, BigInt(height), BigInt(width), BigInt(channels)))], "x0_nhwc");
    x = op("Transpose", [x], "x0_nchw", [{ name: "perm", ints: [0, 3, 1, 2] }]);
    nchw = true;
  }
  const affine = (i: number, bn: BatchNormState, relu: boolean, dims: number[]) => {
    const { scale, shift } = foldBatchNorm(bn, 1);
    x = op("Mul", [x, constant(`bn${i}.scale`, dims, scale)], `scaled${i}`);
    x = op("Add", [x, constant(`bn${i}.shift`, dims, shift)], i === last ? ONNX_OUTPUT : `bn${i}`);
    if (relu) x = op("Relu", [x], `h${i}`);
  };
  const maxPool = (p: PoolSpec, output: string) => op("MaxPool", [x], output, [{ name: "kernel_shape", ints: p.window }, { name: "strides", ints: p.stride }]);
  net.layers.forEach((l, i) => {
    if (l.kind === "maxpool") {
      x = maxPool(l, `pool${i}`);
    } else if (l.kind === "conv") {
      const [kh, kw] = l.kernel;
      const W = constant(`conv${i}.W`, [l.filters, l.input.channels, kh, kw], toOihw(l.weights, kh, kw, l.input.channels, l.filters));
      x = op("Conv", [x, W], `z${i}`, [
        { name: "kernel_shape", ints: l.kernel }, { name: "pads", ints: [l.pad[0], l.pad[1], l.pad[0], l.pad[1]] }, { name: "strides", ints: l.stride },
      ]);
      if (l.pool) x = maxPool(l.pool, `pooled${i}`);
      affine(i, l.bn, l.relu, [l.filters, 1, 1]);
    } else {
      if (nchw) {
        x = op("Transpose", [x], `nhwc${i}`, [{ name: "perm", ints: [0, 2, 3, 1] }]);
        x = op("Flatten", [x], `flat${i}`); // axis 1: [batch, H W C]
        nchw = false;
      }
      x = op("MatMul", [x, constant(`dense${i}.W`, [l.inputs, l.units], l.weights)], `z${i}`);
      affine(i, l.bn, l.relu, [l.units]);
    }
  });
  return { nodes, initializers };
}

/** W [kh, kw, Cin, Cout] (ours) as ONNX's [Cout, Cin, kh, kw]. */
function toOihw(w: Float32Array, kh: number, kw: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      for (let c = 0; c < cin; c++) {
        for (let o = 0; o < cout; o++) out[((o * cin + c) * kh + i) * kw + j] = w[((i * kw + j) * cin + c) * cout + o];
      }
    }
  }
  return out;
}
