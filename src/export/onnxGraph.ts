import type { ModelInfo, PoolSpec } from "../format/bcnet.js";
import { foldBatchNorm, type BatchNormState } from "../format/fold.js";
import { shapeSize, type Preprocessing } from "../format/preprocessing.js";
import { gaussian1d } from "../format/preprocessSteps.js";
import type { ImageShape } from "../format/shapes.js";

export const ONNX_INPUT = "pixels";
/** The input of a model trained on feature vectors (its info has `csv`: a CSV file's, or named features). */
export const ONNX_FEATURES_INPUT = "features";

/** The graph's input name: ONNX_FEATURES_INPUT for a model trained on feature vectors, else ONNX_INPUT. */
export function onnxInputName(info: ModelInfo): string {
  return typeof info.csv === "object" && info.csv !== null ? ONNX_FEATURES_INPUT : ONNX_INPUT;
}
export const ONNX_OUTPUT = "scores";

/** A layer as the ONNX graph holds it: float weights (+-H for a binary layer, real ones otherwise), its batch norm (folded) and ReLU. */
export type OnnxLayer =
  | {
      kind: "dense";
      inputs: number;
      units: number /** [inputs, units] */;
      weights: Float32Array;
      bn: BatchNormState;
      relu: boolean;
    }
  | {
      kind: "conv";
      input: ImageShape;
      filters: number;
      kernel: readonly [number, number];
      stride: readonly [number, number];
      pad: readonly [number, number];
      pool: PoolSpec | null /** [kh, kw, Cin, Cout], the training engine's layout */;
      weights: Float32Array;
      bn: BatchNormState;
      relu: boolean;
    }
  | { kind: "maxpool"; input: ImageShape; window: readonly [number, number]; stride: readonly [number, number] };

/** A network as the ONNX graph holds it: float weights, batch norm to fold, preprocessing. */
export interface OnnxNetwork {
  name: string;
  /** The steps that prepare a raw input (src/format/preprocessing.ts), on [inputs] or the input image [H, W, C]. */
  preprocessing: Preprocessing;
  /** The input image of a network with convolutions (rows of the input are NHWC); absent for an MLP. */
  image?: ImageShape;
  layers: OnnxLayer[];
  info: ModelInfo;
}

/** A node attribute: a list of ints (INTS) or one int (INT). */
export type OnnxAttribute = { name: string; ints: readonly number[] } | { name: string; int: number };

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
 *   pixels [batch, inputs] -> the preprocessing steps (preprocessingNodes) -> x0 [batch, inputs]
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
  let x = preprocessingNodes(net.preprocessing, constant, op, onnxInputName(net.info));
  let nchw = false;
  if (net.layers[0].kind !== "dense") {
    const { height, width, channels } = net.image ?? { height: 0, width: 0, channels: 0 };
    x = op(
      "Reshape",
      [x, constant("image_shape", [4], BigInt64Array.of(-1n, BigInt(height), BigInt(width), BigInt(channels)))],
      "x0_nhwc",
    );
    x = op("Transpose", [x], "x0_nchw", [{ name: "perm", ints: [0, 3, 1, 2] }]);
    nchw = true;
  }
  const affine = (i: number, bn: BatchNormState, relu: boolean, dims: number[]) => {
    const { scale, shift } = foldBatchNorm(bn, 1);
    x = op("Mul", [x, constant(`bn${i}.scale`, dims, scale)], `scaled${i}`);
    x = op("Add", [x, constant(`bn${i}.shift`, dims, shift)], i === last ? ONNX_OUTPUT : `bn${i}`);
    if (relu) x = op("Relu", [x], `h${i}`);
  };
  const maxPool = (p: PoolSpec, output: string) =>
    op("MaxPool", [x], output, [
      { name: "kernel_shape", ints: p.window },
      { name: "strides", ints: p.stride },
    ]);
  net.layers.forEach((l, i) => {
    if (l.kind === "maxpool") {
      x = maxPool(l, `pool${i}`);
    } else if (l.kind === "conv") {
      const [kh, kw] = l.kernel;
      const W = constant(
        `conv${i}.W`,
        [l.filters, l.input.channels, kh, kw],
        toOihw(l.weights, kh, kw, l.input.channels, l.filters),
      );
      x = op("Conv", [x, W], `z${i}`, [
        { name: "kernel_shape", ints: l.kernel },
        { name: "pads", ints: [l.pad[0], l.pad[1], l.pad[0], l.pad[1]] },
        { name: "strides", ints: l.stride },
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

type Constant = (name: string, dims: number[], data: Float32Array | BigInt64Array) => string;
type Op = (opType: string, inputs: string[], output: string, attributes?: OnnxAttribute[]) => string;

/**
 * The preprocessing as standard ops on the input [batch, F] (`input`: pixels, or features; F = the values per example; images
 * NHWC), each step's output [batch, F], the last one named x0 (float32 throughout):
 *   scale:        Mul(factor)
 *   subtractMean: Sub(mean [F])
 *   gcn:          m = ReduceMean(x, axes 1); c = x - m; s = ReduceSum(c c, axes 1) [Div(F - 1) with useStd];
 *                 d = Sqrt(s + sqrtBias) / scale; d = Where(Less(d, minDivisor), 1, d); c / d
 *   zca:          MatMul(x - mean, P [F, F])
 *   lcn:          Reshape [batch, H, W, C] -> Transpose to NCHW; a depthwise Conv (group C) with the
 *                 k x k Gaussian g g^T, zero padding (k-1)/2: mean = conv(x), denom = Sqrt(conv(x x));
 *                 divisor = Max(ReduceMean(denom, axes [2, 3]), denom, threshold); (x - mean) / divisor;
 *                 back to NHWC and [batch, F]
 * With no steps, x0 is Identity(input).
 */
export function preprocessingNodes(p: Preprocessing, constant: Constant, op: Op, input = ONNX_INPUT): string {
  const F = shapeSize(p.shape);
  let x = input;
  const scalar = (name: string, v: number) => constant(name, [], Float32Array.of(v));
  p.steps.forEach((step, i) => {
    const out = i === p.steps.length - 1 ? "x0" : `pre${i}`;
    const name = (what: string) => `pre${i}.${what}`;
    switch (step.kind) {
      case "scale":
        x = op("Mul", [x, scalar(name("factor"), step.factor)], out);
        return;
      case "subtractMean":
        x = op("Sub", [x, constant(name("mean"), [F], Float32Array.from(step.mean))], out);
        return;
      case "gcn": {
        const mean = op("ReduceMean", [x], name("rowMean"), [
          { name: "axes", ints: [1] },
          { name: "keepdims", int: 1 },
        ]);
        const c = op("Sub", [x, mean], name("centred"));
        const sq = op("Mul", [c, c], name("squares"));
        let s = op("ReduceSum", [sq, constant(name("axes"), [1], BigInt64Array.of(1n))], name("sumSquares"), [
          { name: "keepdims", int: 1 },
        ]);
        if (step.useStd) s = op("Div", [s, scalar(name("dof"), F > 1 ? F - 1 : 1)], name("variance"));
        let d = op("Sqrt", [op("Add", [s, scalar(name("sqrtBias"), step.sqrtBias)], name("biased"))], name("norm"));
        d = op("Div", [d, scalar(name("scale"), step.scale)], name("divisor"));
        const small = op("Less", [d, scalar(name("minDivisor"), step.minDivisor)], name("small"));
        d = op("Where", [small, scalar(name("one"), 1), d], name("safeDivisor"));
        x = op("Div", [c, d], out);
        return;
      }
      case "zca": {
        const c = op("Sub", [x, constant(name("mean"), [F], Float32Array.from(step.mean))], name("centred"));
        x = op("MatMul", [c, constant(name("P"), [F, F], Float32Array.from(step.P))], out);
        return;
      }
      case "lcn": {
        const [H, W, C] = p.shape,
          k = step.kernel,
          r = (k - 1) / 2;
        const g = gaussian1d(k, step.sigma),
          kernel = new Float32Array(C * k * k);
        for (let c = 0; c < C; c++)
          for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) kernel[(c * k + a) * k + b] = g[a] * g[b];
        const G = constant(name("gaussian"), [C, 1, k, k], kernel);
        const conv = (input: string, output: string) =>
          op("Conv", [input, G], output, [
            { name: "kernel_shape", ints: [k, k] },
            { name: "pads", ints: [r, r, r, r] },
            { name: "group", int: C },
          ]);
        const nhwc = op(
          "Reshape",
          [x, constant(name("imageShape"), [4], BigInt64Array.of(-1n, BigInt(H), BigInt(W), BigInt(C)))],
          name("nhwc"),
        );
        const img = op("Transpose", [nhwc], name("nchw"), [{ name: "perm", ints: [0, 3, 1, 2] }]);
        const mean = conv(img, name("localMean"));
        const denom = op("Sqrt", [conv(op("Mul", [img, img], name("squares")), name("localSquares"))], name("denom"));
        const avg = op("ReduceMean", [denom], name("meanDenom"), [
          { name: "axes", ints: [2, 3] },
          { name: "keepdims", int: 1 },
        ]);
        const divisor = op("Max", [avg, denom, scalar(name("threshold"), step.threshold)], name("divisor"));
        const y = op("Div", [op("Sub", [img, mean], name("centred")), divisor], name("normalized"));
        const back = op("Transpose", [y], name("normalizedNhwc"), [{ name: "perm", ints: [0, 2, 3, 1] }]);
        x = op("Reshape", [back, constant(name("rowShape"), [2], BigInt64Array.of(-1n, BigInt(F)))], out);
        return;
      }
    }
  });
  return p.steps.length ? x : op("Identity", [x], "x0");
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
