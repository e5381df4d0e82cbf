import type { ModelInfo } from "../format/bcnet.js";
import { foldBatchNorm, type BatchNormState } from "../format/fold.js";
import { ProtoWriter } from "./protobuf.js";
import { MNIST_INPUT_SCALE, modelInfo, type RunModel } from "./runModel.js";

/** ONNX's IR version and the default-domain opset the graph uses (MatMul, Mul, Add, Sub, Relu). */
export const ONNX_IR_VERSION = 7;
export const ONNX_OPSET = 13;
export const ONNX_INPUT = "pixels";
export const ONNX_OUTPUT = "scores";
const FLOAT = 1; // TensorProto.DataType.FLOAT

/** Field numbers of onnx.proto (the messages this writer uses). */
const F = {
  model: { irVersion: 1, producerName: 2, producerVersion: 3, graph: 7, opsetImport: 8, metadataProps: 14 },
  opset: { domain: 1, version: 2 },
  graph: { node: 1, name: 2, initializer: 5, input: 11, output: 12 },
  node: { input: 1, output: 2, name: 3, opType: 4 },
  tensor: { dims: 1, dataType: 2, name: 8, rawData: 9 },
  valueInfo: { name: 1, type: 2 },
  type: { tensorType: 1 },
  tensorType: { elemType: 1, shape: 2 },
  shape: { dim: 1 },
  dim: { value: 1, param: 2 },
  entry: { key: 1, value: 2 },
} as const;

interface Node {
  op: string;
  inputs: string[];
  output: string;
}

/** A network as the ONNX graph holds it: float weights, batch norm to fold, preprocessing. */
export interface OnnxNetwork {
  name: string;
  /** x' = x * inputScale - mean. */
  inputScale: number;
  mean: ArrayLike<number>;
  /** weights: [inputs, units] as they go into the graph (+-H for a binary layer). */
  layers: { inputs: number; units: number; weights: Float32Array; bn: BatchNormState }[];
  info: ModelInfo;
}

/**
 * The run as a standard ONNX model (opset 13), for onnxruntime and other runtimes. W holds the
 * binary weights as floats +-H (det and stoch runs: sign(W), zero maps to +H) or, for a run
 * with real weights (mode none), W itself. See encodeOnnx for the graph.
 */
export function toOnnx(run: RunModel): Uint8Array {
  const { H, mode, preset } = run.config;
  return encodeOnnx({
    name: `binaryconnect ${preset} ${mode}`,
    inputScale: MNIST_INPUT_SCALE,
    mean: run.mean,
    layers: run.layers.map((l) => ({ inputs: l.inputs, units: l.units, bn: l.bn, weights: mode === "none" ? l.W : l.W.map((w) => (w >= 0 ? H : -H)) })),
    info: modelInfo(run),
  });
}

/**
 * The ONNX graph (written with our protobuf writer, protobuf.ts):
 *   pixels [batch, inputs] -> Mul(inputScale) -> Sub(mean) -> per layer:
 *   MatMul(W) -> Mul(a) -> Add(b) [-> Relu on all but the last] -> scores [batch, classes]
 * with batch norm folded into a = gamma r and b = beta - a mean (src/format/fold.ts, H = 1:
 * the weights carry H). The model info goes into metadata_props["binaryconnect"] as JSON.
 */
export function encodeOnnx(net: OnnxNetwork): Uint8Array {
  const nodes: Node[] = [];
  const initializers: { name: string; dims: number[]; data: Float32Array }[] = [];
  const constant = (name: string, dims: number[], data: Float32Array) => {
    initializers.push({ name, dims, data });
    return name;
  };
  const op = (opType: string, inputs: string[], output: string) => {
    nodes.push({ op: opType, inputs, output });
    return output;
  };
  const inputs = net.layers[0].inputs;
  let x = op("Mul", [ONNX_INPUT, constant("input_scale", [], Float32Array.of(net.inputScale))], "scaled");
  x = op("Sub", [x, constant("input_mean", [inputs], Float32Array.from(net.mean))], "x0");
  net.layers.forEach((l, i) => {
    const { scale, shift } = foldBatchNorm(l.bn, 1);
    const last = i === net.layers.length - 1;
    x = op("MatMul", [x, constant(`dense${i}.W`, [l.inputs, l.units], l.weights)], `z${i}`);
    x = op("Mul", [x, constant(`bn${i}.scale`, [l.units], scale)], `scaled${i}`);
    x = op("Add", [x, constant(`bn${i}.shift`, [l.units], shift)], last ? ONNX_OUTPUT : `bn${i}`);
    if (!last) x = op("Relu", [x], `h${i}`);
  });
  const classes = net.layers[net.layers.length - 1].units;
  return new ProtoWriter()
    .varint(F.model.irVersion, ONNX_IR_VERSION)
    .string(F.model.producerName, "binaryconnect")
    .string(F.model.producerVersion, "0.1.0")
    .message(F.model.graph, (g) => {
      for (const n of nodes) g.message(F.graph.node, (w) => writeNode(w, n));
      g.string(F.graph.name, net.name);
      for (const t of initializers) g.message(F.graph.initializer, (w) => writeTensor(w, t.name, t.dims, t.data));
      g.message(F.graph.input, (w) => writeValueInfo(w, ONNX_INPUT, inputs));
      g.message(F.graph.output, (w) => writeValueInfo(w, ONNX_OUTPUT, classes));
    })
    .message(F.model.opsetImport, (w) => w.string(F.opset.domain, "").varint(F.opset.version, ONNX_OPSET))
    .message(F.model.metadataProps, (w) => w.string(F.entry.key, "binaryconnect").string(F.entry.value, JSON.stringify(net.info)))
    .finish();
}

function writeNode(w: ProtoWriter, n: Node): void {
  for (const i of n.inputs) w.string(F.node.input, i);
  w.string(F.node.output, n.output).string(F.node.name, n.output).string(F.node.opType, n.op);
}

function writeTensor(w: ProtoWriter, name: string, dims: number[], data: Float32Array): void {
  for (const d of dims) w.varint(F.tensor.dims, d);
  const raw = new Uint8Array(data.length * 4);
  const view = new DataView(raw.buffer);
  data.forEach((v, i) => view.setFloat32(4 * i, v, true)); // ONNX raw_data is little-endian
  w.varint(F.tensor.dataType, FLOAT).string(F.tensor.name, name).bytes(F.tensor.rawData, raw);
}

/** A float tensor [batch, features] with a symbolic batch dimension. */
function writeValueInfo(w: ProtoWriter, name: string, features: number): void {
  w.string(F.valueInfo.name, name).message(F.valueInfo.type, (t) =>
    t.message(F.type.tensorType, (tt) =>
      tt.varint(F.tensorType.elemType, FLOAT).message(F.tensorType.shape, (s) => {
        s.message(F.shape.dim, (d) => d.string(F.dim.param, "batch"));
        s.message(F.shape.dim, (d) => d.varint(F.dim.value, features));
      })));
}
