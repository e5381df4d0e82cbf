import { join } from "node:path";
import { OptionError } from "../core/errors.js";
import { Command, Option } from "commander";
import { decodeBcnet } from "../format/decode.js";
import { encodeBcnet } from "../format/encode.js";
import { architecture, float32Bytes } from "../format/bcnet.js";
import { shapeText } from "../format/shapes.js";
import { toOnnx } from "../export/onnx.js";
import { readRun, toBcnet } from "../export/runModel.js";
import { writeFileAtomic } from "../train/checkpoint.js";
import { oneOf, path } from "./parse.js";

/** Options of `binaryconnect export`, as parsed by commander. */
export interface ExportCliOptions {
  out?: string;
  format?: ExportFormat;
  which: "best" | "last";
  data?: string;
}

export const EXPORT_FORMATS = ["bcnet", "onnx"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/**
 * The format to write: --format, else the one --out's extension names (.onnx or .bcnet), else
 * bcnet. A --format that contradicts the extension is refused (the file would be misread).
 */
export function exportFormat(format: ExportFormat | undefined, out: string | undefined): ExportFormat {
  const ext = out?.toLowerCase().match(/\.(bcnet|onnx)$/)?.[1] as ExportFormat | undefined;
  if (format && ext && format !== ext)
    throw new OptionError(
      `--format ${format} would write a .${format} file named ${out}`,
      `name it .${format}, or leave --format out to write ${ext}`,
    );
  return format ?? ext ?? "bcnet";
}

const mib = (b: number) => `${(b / 1048576).toFixed(3)} MiB`;

export function exportCommand(): Command {
  return new Command("export")
    .description("write a trained run's model for deployment: .bcnet (1 bit per weight, docs/FORMAT.md) or ONNX")
    .argument("<dir>", "run folder written by `binaryconnect train`", path)
    .addOption(
      new Option("--out <file>", "output file (default: <dir>/model.bcnet or <dir>/model.onnx)").argParser(path),
    )
    .addOption(
      new Option(
        "--format <format>",
        "bcnet (binary weights packed, batch norm folded) or onnx (standard graph, float weights +-H); default: the extension of --out, else bcnet",
      ).argParser(oneOf(EXPORT_FORMATS)),
    )
    .addOption(
      new Option("--which <model>", "best (the best validation epoch) or last (the last checkpoint)")
        .default("best")
        .argParser(oneOf(["best", "last"] as const)),
    )
    .addOption(
      new Option(
        "--data <dir>",
        "only for runs of version 0.1, which did not save their preprocessing: the data folder to recompute it from (default: the folder the run recorded, else the bundled MNIST)",
      ).argParser(path),
    )
    .action(async (dir: string, o: ExportCliOptions) => {
      const format = exportFormat(o.format, o.out);
      const run = await readRun(dir, { which: o.which, data: o.data });
      const out = o.out ?? join(dir, `model.${format}`);
      if (format === "onnx") {
        const bytes = toOnnx(run);
        writeFileAtomic(out, bytes);
        const weighted = run.layers.filter((l) => l.kind !== "maxpool");
        const weights = weighted.every((l) => l.binarize === "none")
          ? "real float32 weights"
          : weighted.some((l) => l.binarize === "none")
            ? "binary and real weights as float32"
            : `binary weights as float32 +-${String(run.info.H)}`;
        const layers = run.image
          ? `${shapeText(run.image)}-${String(run.info.architecture ?? "network")}`
          : [run.inputs, ...run.layers.map((l) => (l.kind === "dense" ? l.units : "?"))].join("-");
        console.log(
          `wrote ${out}: ONNX (opset 13), ${layers}, ${weights}, ${bytes.length.toLocaleString("en-US")} bytes (${mib(bytes.length)})`,
        );
        return;
      }
      const bytes = encodeBcnet(toBcnet(run));
      const model = decodeBcnet(bytes, out, { allowLargeCompute: true }); // what a reader will see: checks the file before it is written (the compute bounds are for untrusted files)
      writeFileAtomic(out, bytes);
      const f32 = float32Bytes(model);
      console.log(
        `wrote ${out}: ${architecture(model)}, ${bytes.length.toLocaleString("en-US")} bytes (${mib(bytes.length)}; ` +
          `${mib(f32)} as float32, ${(f32 / bytes.length).toFixed(1)}x smaller); trained ${String(run.info.mode)}, epoch ${String(run.info.epoch)}${run.info.stepsOfNextEpoch !== undefined ? ` and ${String(run.info.stepsOfNextEpoch)} steps of the next` : ""}` +
          (run.info.mode === "stoch"
            ? "; exported with its binary test-time weights (eval --test-time binary gives their error)"
            : ""),
      );
    });
}
