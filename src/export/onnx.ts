import {
  buildGraph,
  ONNX_OUTPUT,
  onnxInputName,
  type OnnxInitializer,
  type OnnxLayer,
  type OnnxNetwork,
  type OnnxNode,
} from "./onnxGraph.js";
import { ProtoWriter } from "./protobuf.js";
import { shapeSize } from "../format/preprocessing.js";
import { PRODUCER, type RunModel } from "./modelRun.js";

export {
  ONNX_FEATURES_INPUT,
  ONNX_INPUT,
  ONNX_OUTPUT,
  onnxInputName,
  type OnnxLayer,
  type OnnxNetwork,
} from "./onnxGraph.js";

/**
 * ONNX's IR version and the default-domain opset the graph uses (MatMul, Conv, MaxPool, Mul,
 * Add, Sub, Div, Relu, Reshape, Transpose, Flatten, Identity; the preprocessing also ReduceMean,
 * ReduceSum, Sqrt, Less, Where, Max).
 */
export const ONNX_IR_VERSION = 7;
export const ONNX_OPSET = 13;
const FLOAT = 1,
  INT64 = 7; // TensorProto.DataType
const ATTRIBUTE_INT = 2,
  ATTRIBUTE_INTS = 7; // AttributeProto.AttributeType

/** Field numbers of onnx.proto (the messages this writer uses). */
const F = {
  model: { irVersion: 1, producerName: 2, producerVersion: 3, graph: 7, opsetImport: 8, metadataProps: 14 },
  opset: { domain: 1, version: 2 },
  graph: { node: 1, name: 2, initializer: 5, input: 11, output: 12 },
  node: { input: 1, output: 2, name: 3, opType: 4, attribute: 5 },
  attribute: { name: 1, i: 3, ints: 8, type: 20 },
  tensor: { dims: 1, dataType: 2, name: 8, rawData: 9 },
  valueInfo: { name: 1, type: 2 },
  type: { tensorType: 1 },
  tensorType: { elemType: 1, shape: 2 },
  shape: { dim: 1 },
  dim: { value: 1, param: 2 },
  entry: { key: 1, value: 2 },
} as const;

/**
 * The model as a standard ONNX model (opset 13), for onnxruntime and other runtimes. A binary
 * layer's weights are floats +-H (det and stoch: sign(W), zero maps to +H); a layer with real
 * weights (binarize "none") keeps W. See buildGraph (onnxGraph.ts) for the graph.
 */
export function toOnnx(run: RunModel): Uint8Array {
  const weights = (W: Float32Array, binarize: string, H: number) =>
    binarize === "none" ? W : W.map((w) => (w >= 0 ? H : -H));
  const layers = run.layers.map(
    (l): OnnxLayer => (l.kind === "maxpool" ? l : { ...l, weights: weights(l.W, l.binarize, l.H) }),
  );
  return encodeOnnx({ name: run.name, preprocessing: run.preprocessing, image: run.image, layers, info: run.info });
}

/**
 * The ONNX model of a network (written with our protobuf writer, protobuf.ts): the graph of
 * buildGraph, input `pixels` [batch, inputs] (raw values, e.g. pixels 0..255; NHWC rows for
 * images: the graph starts with the preprocessing; `features` for a model trained on feature
 * vectors: onnxInputName), output `scores`
 * [batch, classes]; the model info goes into metadata_props["binaryconnect"] as JSON.
 */
export function encodeOnnx(net: OnnxNetwork): Uint8Array {
  const { nodes, initializers } = buildGraph(net);
  const lastLayer = net.layers[net.layers.length - 1];
  const classes = lastLayer.kind === "dense" ? lastLayer.units : 0;
  return new ProtoWriter()
    .varint(F.model.irVersion, ONNX_IR_VERSION)
    .string(F.model.producerName, "binaryconnect")
    .string(F.model.producerVersion, PRODUCER.split(" ")[1])
    .message(F.model.graph, (g) => {
      for (const n of nodes) g.message(F.graph.node, (w) => writeNode(w, n));
      g.string(F.graph.name, net.name);
      for (const t of initializers) g.message(F.graph.initializer, (w) => writeTensor(w, t));
      g.message(F.graph.input, (w) => writeValueInfo(w, onnxInputName(net.info), shapeSize(net.preprocessing.shape)));
      g.message(F.graph.output, (w) => writeValueInfo(w, ONNX_OUTPUT, classes));
    })
    .message(F.model.opsetImport, (w) => w.string(F.opset.domain, "").varint(F.opset.version, ONNX_OPSET))
    .message(F.model.metadataProps, (w) =>
      w.string(F.entry.key, "binaryconnect").string(F.entry.value, JSON.stringify(net.info)),
    )
    .finish();
}

function writeNode(w: ProtoWriter, n: OnnxNode): void {
  for (const i of n.inputs) w.string(F.node.input, i);
  w.string(F.node.output, n.output).string(F.node.name, n.output).string(F.node.opType, n.op);
  for (const a of n.attributes) {
    w.message(F.node.attribute, (m) => {
      m.string(F.attribute.name, a.name);
      if ("int" in a) m.varint(F.attribute.i, a.int).varint(F.attribute.type, ATTRIBUTE_INT);
      else {
        for (const v of a.ints) m.varint(F.attribute.ints, v);
        m.varint(F.attribute.type, ATTRIBUTE_INTS);
      }
    });
  }
}

function writeTensor(w: ProtoWriter, t: OnnxInitializer): void {
  for (const d of t.dims) w.varint(F.tensor.dims, d);
  const int64 = t.data instanceof BigInt64Array;
  const raw = new Uint8Array(t.data.length * (int64 ? 8 : 4));
  const view = new DataView(raw.buffer);
  // ONNX raw_data is little-endian.
  if (t.data instanceof BigInt64Array) for (const [i, v] of t.data.entries()) view.setBigInt64(8 * i, v, true);
  else for (const [i, v] of t.data.entries()) view.setFloat32(4 * i, v, true);
  w.varint(F.tensor.dataType, int64 ? INT64 : FLOAT)
    .string(F.tensor.name, t.name)
    .bytes(F.tensor.rawData, raw);
}

/** A float tensor [batch, features] with a symbolic batch dimension. */
function writeValueInfo(w: ProtoWriter, name: string, features: number): void {
  w.string(F.valueInfo.name, name).message(F.valueInfo.type, (t) =>
    t.message(F.type.tensorType, (tt) =>
      tt.varint(F.tensorType.elemType, FLOAT).message(F.tensorType.shape, (s) => {
        s.message(F.shape.dim, (d) => d.string(F.dim.param, "batch"));
        s.message(F.shape.dim, (d) => d.varint(F.dim.value, features));
      }),
    ),
  );
}
