import { readFileSync } from "node:fs";
import { Command, Option } from "commander";
import { OptionError } from "../core/errors.js";
import { architecture, classesOf, fanIn, fanOut, float32Bytes, formatVersionOf, type BcnetModel, type LayerHead } from "../format/bcnet.js";
import { describePreprocessing, scaleMeanOf } from "../format/preprocessing.js";
import { decodeBcnet } from "../format/decode.js";
import { layerOutputShape, parseArchitecture } from "../nn/architecture.js";
import { BINARIZATIONS, type Binarization } from "../nn/binarization.js";
import { DATASET_IMAGE } from "../train/config.js";
import { DEFAULT_PRESET, getPreset, PRESETS } from "../train/presets.js";
import { oneOf } from "./parse.js";

export interface LayerSummary {
  name: string;
  shape: string;
  params: number;
  binary: number;
  float32Bytes: number;
  packedBytes: number;
}

/**
 * Per-layer parameter counts and memory of the preset's network: as float32, and with every
 * binary weight stored as 1 bit (other parameters, the batch-norm scale and shift after
 * folding, stay float32). Biases are absent (batch norm follows every dense layer).
 */
export function summarize(hidden: number[], inputs: number, classes: number, mode: Binarization): LayerSummary[] {
  const sizes = [inputs, ...hidden, classes];
  const rows: LayerSummary[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    const w = sizes[i] * sizes[i + 1];
    const binary = mode === "none" ? 0 : w;
    rows.push({ name: `dense${i}`, shape: `${sizes[i]}x${sizes[i + 1]}`, params: w, binary, float32Bytes: 4 * w, packedBytes: binary ? Math.ceil(w / 8) : 4 * w });
    const bn = 2 * sizes[i + 1];
    rows.push({ name: `bn${i}`, shape: `2x${sizes[i + 1]}`, params: bn, binary: 0, float32Bytes: 4 * bn, packedBytes: 4 * bn });
  }
  return rows;
}

const mib = (b: number) => `${(b / 1048576).toFixed(3)} MiB`;

export function formatSummary(rows: LayerSummary[]): string {
  const header = ["layer", "shape", "params", "binary", "float32", "1-bit"];
  const body = rows.map((r) => [r.name, r.shape, String(r.params), String(r.binary), mib(r.float32Bytes), mib(r.packedBytes)]);
  const total = rows.reduce((t, r) => ({ params: t.params + r.params, binary: t.binary + r.binary, f: t.f + r.float32Bytes, p: t.p + r.packedBytes }), { params: 0, binary: 0, f: 0, p: 0 });
  body.push(["total", "", String(total.params), String(total.binary), mib(total.f), mib(total.p)]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ");
  return [line(header), ...body.map(line), `compression: ${(total.f / total.p).toFixed(1)}x smaller with 1-bit weights`].join("\n");
}

/**
 * The same table for a network in the paper's notation (the CNN presets): every conv and dense
 * layer's weights (binary unless mode is none) and its batch norm's scale and shift.
 */
export function summarizeArchitecture(architecture: string, input: readonly [number, number, number], mode: Binarization): LayerSummary[] {
  const rows: LayerSummary[] = [];
  let dims: number[] = [...input], bn = 0, conv = 0, dense = 0;
  const weights = (name: string, shape: string, n: number) => {
    const binary = mode === "none" ? 0 : n;
    rows.push({ name, shape, params: n, binary, float32Bytes: 4 * n, packedBytes: binary ? Math.ceil(n / 8) : 4 * n });
  };
  for (const l of parseArchitecture(architecture)) {
    const channels = dims[dims.length - 1]; // of [H, W, C], or the features after a flatten
    if (l.kind === "conv") {
      weights(`conv${conv++}`, `${l.kernel[0]}x${l.kernel[1]}x${channels}x${l.filters}`, l.kernel[0] * l.kernel[1] * channels * l.filters);
    } else if (l.kind === "dense") {
      weights(`dense${dense++}`, `${channels}x${l.units}`, channels * l.units);
    } else if (l.kind === "batchnorm") {
      rows.push({ name: `bn${bn++}`, shape: `2x${channels}`, params: 2 * channels, binary: 0, float32Bytes: 8 * channels, packedBytes: 8 * channels });
    }
    dims = layerOutputShape(l, dims);
  }
  return rows;
}

/**
 * The layers of a .bcnet model file, as rows of the same table (sizes as stored in the file):
 * conv{i} / dense{i} by layer index, with the folded batch norm after each; max pooling (a
 * convolution's or a layer of its own) has no parameters and no row.
 */
export function summarizeModel(model: BcnetModel): LayerSummary[] {
  return model.layers.flatMap((l, i) => {
    if (l.kind === "maxpool") return [];
    const k = fanIn(l), n = fanOut(l);
    const shape = l.kind === "dense" ? `${k}x${n}` : `${l.kernel[0]}x${l.kernel[1]}x${l.input.channels}x${n}`;
    return [
      { name: `${l.kind}${i}`, shape, params: k * n, binary: k * n, float32Bytes: 4 * k * n, packedBytes: l.bits.length },
      { name: `bn${i} (folded${l.kind === "conv" && l.pool ? ", after the pooling" : ""}, ${l.activation})`, shape: `2x${n}`, params: 2 * n, binary: 0, float32Bytes: 8 * n, packedBytes: 8 * n },
    ];
  });
}

/** "MLP" for dense layers only, "CNN" with convolutions. */
function networkKind(layers: readonly LayerHead[]): string {
  return layers.some((l) => l.kind === "conv") ? "CNN" : "MLP";
}

/** What `summary MODEL` prints: the file, its preprocessing, the layer table and the model info. */
export function formatModelSummary(path: string, bytes: Uint8Array): string {
  const model = decodeBcnet(bytes, path);
  const rows = summarizeModel(model);
  const layerBytes = rows.reduce((s, r) => s + r.packedBytes, 0);
  const folded = scaleMeanOf(model.preprocessing, model.inputs);
  const meanAvg = folded ? folded.mean.reduce((s, v) => s + v, 0) / folded.mean.length : 0;
  const f32 = float32Bytes(model);
  const { producer, ...rest } = model.info;
  return [
    `${path}: .bcnet model (format version ${formatVersionOf(model)}), ${architecture(model)} ${networkKind(model.layers)}, ${classesOf(model)} classes`,
    folded
      ? `preprocessing: x' = x * ${folded.inputScale.toPrecision(6)} - mean[${folded.mean.length}] (mean of the mean ${meanAvg.toFixed(4)})`
      : `preprocessing: ${describePreprocessing(model.preprocessing)}`,
    formatSummary(rows),
    `file: ${bytes.length.toLocaleString("en-US")} bytes (${mib(bytes.length)}): the layers above ${layerBytes.toLocaleString("en-US")}, ` +
      `the header, preprocessing, info and padding ${(bytes.length - layerBytes).toLocaleString("en-US")}; as float32 ${mib(f32)} (${(f32 / bytes.length).toFixed(1)}x the file)`,
    `written by ${producer}: ${JSON.stringify(rest)}`,
  ].join("\n");
}

export function summaryCommand(): Command {
  return new Command("summary")
    .description("parameters per layer, which are binary, and memory as float32 vs 1-bit: of a preset's network, or of a .bcnet model file")
    .argument("[model]", "a .bcnet file written by `binaryconnect export` (default: describe --preset's network)")
    .addOption(new Option("--preset <name>", `preset: ${Object.keys(PRESETS).join(", ")}`).default(DEFAULT_PRESET).argParser(oneOf(Object.keys(PRESETS))))
    .addOption(new Option("--mode <mode>", "weight binarization").default("det").argParser(oneOf(BINARIZATIONS)))
    .action((model: string | undefined, o: { preset: string; mode: Binarization }, cmd: Command) => {
      if (model !== undefined) {
        const given = ["preset", "mode"].filter((k) => cmd.getOptionValueSource(k) === "cli");
        if (given.length) throw new OptionError(`--${given.join(", --")} describe a preset's network, not the model file ${model}`, "give either a model file or --preset/--mode");
        console.log(formatModelSummary(model, readModelFile(model)));
        return;
      }
      const p = getPreset(o.preset);
      if (p.architecture) {
        const [h, w, c] = DATASET_IMAGE[p.dataset];
        console.log(`${o.preset} (${o.mode}): ${p.architecture} on ${h}x${w}x${c} images`);
        console.log(formatSummary(summarizeArchitecture(p.architecture, [h, w, c], o.mode)));
        return;
      }
      console.log(`${o.preset} (${o.mode}): 784-${p.hidden.join("-")}-10 MLP`);
      console.log(formatSummary(summarize(p.hidden, 784, 10, o.mode)));
    });
}

/** The bytes of a model file; a missing or unreadable file is an OptionError naming it. */
export function readModelFile(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new OptionError(`cannot read the model file ${path}: ${(e as Error).message}`, "pass a .bcnet file written by `binaryconnect export RUN_DIR --out FILE`");
  }
}
