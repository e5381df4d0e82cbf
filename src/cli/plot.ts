import { Command, Option } from "commander";
import { plotFolder } from "../plot/plot.js";
import { path } from "./parse.js";

interface PlotCliOptions {
  out?: string;
}

/** `binaryconnect plot DIR`: the paper's figures (learning curves, weight histogram, features) as SVG and PNG. */
export function plotCommand(): Command {
  return new Command("plot")
    .description(
      "draw the paper's figures from a reproduce folder's runs or one run folder: learning curves (Fig. 3), first-layer weight histogram (Fig. 2) and features (Fig. 1), as SVG and PNG",
    )
    .argument(
      "<dir>",
      "folder written by `binaryconnect reproduce` (DIR/runs/<method>-seed<k>/), or one run folder of `binaryconnect train`",
    )
    .addOption(new Option("--out <dir>", "where the figures go (default: DIR/figures)").argParser(path))
    .action(async (dir: string, o: PlotCliOptions) => {
      const files = await plotFolder({ dir, out: o.out, log: (line) => console.log(line) });
      console.log(`${files.length} files written`);
    });
}
