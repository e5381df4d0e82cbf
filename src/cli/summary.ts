import { readFileSync, statSync } from "node:fs";
import { requireRegularFile } from "../data/idx.js";
import { Command, Option } from "commander";
import { DataFormatError, OptionError } from "../core/errors.js";
import {
  architecture,
  classesOf,
  fanIn,
  fanOut,
  float32Bytes,
  formatVersionOf,
  type BcnetModel,
  type LayerHead,
} from "../format/bcnet.js";
import { describePreprocessing, scaleMeanOf } from "../format/preprocessing.js";
import { decodeBcnet } from "../format/decode.js";
import { parseArchitecture } from "../nn/architecture.js";
import { mlpNetwork } from "../nn/mlp.js";
import { formatSummary, summarizeNetwork, type LayerSummary } from "../nn/summary.js";
import { BINARIZATION_SYNONYMS, BINARIZATIONS, type Binarization } from "../nn/binarization.js";
import { DATASET_IMAGE } from "../train/config.js";
import { DEFAULT_PRESET, getPreset, PRESETS } from "../train/presets.js";
import { oneOf } from "./parse.js";
import { encodeBcnet } from "../format/encode.js";
import { toBcnet } from "../export/modelRun.js";
import { readRun } from "../export/runModel.js";
import { isFolder } from "../train/fsio.js";

export { formatSummary, type LayerSummary } from "../nn/summary.js";

const mib = (b: number) => `${(b / 1048576).toFixed(3)} MiB`;

/**
 * Per-layer parameter counts and memory of the preset's MLP: as float32, and with every
 * binary weight stored as 1 bit (nn/summary.ts).
 */
export function summarize(hidden: number[], inputs: number, classes: number, mode: Binarization): LayerSummary[] {
  return withoutOutput(
    summarizeNetwork(
      mlpNetwork({
        inputs,
        hidden,
        classes,
        binarization: mode,
        H: 1,
        dropout: { input: 0, hidden: 0 },
        batchNorm: { variant: "authors", eps: 1e-4, momentum: 0.1 },
      }),
    ),
  );
}

/** The same table for a network in the paper's notation (the CNN presets). */
export function summarizeArchitecture(
  architecture: string,
  input: readonly [number, number, number],
  mode: Binarization,
): LayerSummary[] {
  return withoutOutput(
    summarizeNetwork({
      input: [...input],
      layers: parseArchitecture(architecture),
      binarization: mode,
      H: 1,
      batchNorm: { variant: "authors", eps: 1e-4, momentum: 0.1 },
    }),
  );
}

/** The command's table has no output-shape column. */
function withoutOutput(rows: LayerSummary[]): LayerSummary[] {
  return rows.map(({ output: _o, ...row }) => row);
}

/**
 * The layers of a .bcnet model file, as rows of the same table (sizes as stored in the file):
 * conv{i} / dense{i} by layer index, with the folded batch norm after each; max pooling (a
 * convolution's or a layer of its own) has no parameters and no row.
 */
export function summarizeModel(model: BcnetModel): LayerSummary[] {
  return model.layers.flatMap((l, i) => {
    if (l.kind === "maxpool") return [];
    const k = fanIn(l),
      n = fanOut(l);
    const shape = l.kind === "dense" ? `${k}x${n}` : `${l.kernel[0]}x${l.kernel[1]}x${l.input.channels}x${n}`;
    return [
      {
        name: `${l.kind}${i}`,
        shape,
        params: k * n,
        binary: k * n,
        float32Bytes: 4 * k * n,
        packedBytes: l.bits.length,
      },
      {
        name: `bn${i} (folded${l.kind === "conv" && l.pool ? ", after the pooling" : ""}, ${l.activation})`,
        shape: `2x${n}`,
        params: 2 * n,
        binary: 0,
        float32Bytes: 8 * n,
        packedBytes: 8 * n,
      },
    ];
  });
}

/** "MLP" for dense layers only, "CNN" with convolutions. */
function networkKind(layers: readonly LayerHead[]): string {
  return layers.some((l) => l.kind === "conv") ? "CNN" : "MLP";
}

/** What `summary MODEL` prints: the file, its preprocessing, the layer table and the model info. */
export function formatModelSummary(path: string, bytes: Uint8Array, allowLargeCompute = false): string {
  const model = decodeBcnet(bytes, path, { allowLargeCompute });
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
    .description(
      "parameters per layer, which are binary, and memory as float32 vs 1-bit: of a preset's network, or of a .bcnet model file",
    )
    .argument(
      "[model]",
      "a .bcnet file written by `binaryconnect export`, or a run folder (its best.bin as export would write it) (default: describe --preset's network)",
    )
    .addOption(
      new Option("--preset <name>", `preset: ${Object.keys(PRESETS).join(", ")}`)
        .default(DEFAULT_PRESET)
        .argParser(oneOf(Object.keys(PRESETS))),
    )
    .addOption(
      new Option("--mode <mode>", "weight binarization")
        .default("det")
        .argParser(oneOf(BINARIZATIONS, BINARIZATION_SYNONYMS)),
    )
    .option(
      "--allow-large-models",
      'describe a model file whose work per image passes the format\'s compute bounds (docs/FORMAT.md, "Compute bounds")',
      false,
    )
    .action(
      async (
        model: string | undefined,
        o: { preset: string; mode: Binarization; allowLargeModels: boolean },
        cmd: Command,
      ) => {
        if (model !== undefined) {
          const given = ["preset", "mode"].filter((k) => cmd.getOptionValueSource(k) === "cli");
          if (given.length)
            throw new OptionError(
              `--${given.join(", --")} ${given.length === 1 ? "describes" : "describe"} a preset's network, not the model file ${model}`,
              "give either a model file or --preset/--mode",
            );
          if (isFolder(model)) {
            // a run folder: the model file export would write from its best epoch
            const bytes = encodeBcnet(toBcnet(await readRun(model)));
            console.log(formatModelSummary(`${model} (best.bin, as export writes it)`, bytes, true));
            return;
          }
          console.log(formatModelSummary(model, readModelFile(model), o.allowLargeModels));
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
      },
    );
}

/** The bytes of a model file; a missing or unreadable file is an OptionError naming it. */
export function readModelFile(path: string): Uint8Array {
  try {
    // only a regular file: a FIFO or a device could block or never end
    requireRegularFile(path, statSync(path), "pass a .bcnet file written by `binaryconnect export RUN_DIR --out FILE`");
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    if (e instanceof DataFormatError) throw e;
    throw new OptionError(
      `cannot read the model file ${path}: ${(e as Error).message}`,
      "pass a .bcnet file written by `binaryconnect export RUN_DIR --out FILE`",
    );
  }
}
