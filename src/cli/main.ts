#!/usr/bin/env node
// the library's Node parts (run folders, model files): the CLI is a consumer of the library
import "../api/node.js";
import { Command, CommanderError, Option } from "commander";
import { BinaryConnectError } from "../core/errors.js";
import { dataCommand } from "./data.js";
import { evalCommand } from "./eval.js";
import { exportCommand } from "./export.js";
import { plotCommand } from "./plot.js";
import { predictCommand } from "./predict.js";
import { reproduceCommand } from "./reproduce.js";
import { summaryCommand } from "./summary.js";
import { trainCommand } from "./train.js";

/** The `binaryconnect` command line: parses flags into typed options and calls the library. */
export function program(): Command {
  const root = new Command("binaryconnect")
    .description("BinaryConnect: train deep networks with binary weights during propagation (Courbariaux et al. 2015)")
    .version("0.2.0")
    .showSuggestionAfterError(true)
    .showHelpAfterError("(run with --help for every option and its default)");
  for (const cmd of [
    trainCommand(),
    evalCommand(),
    summaryCommand(),
    exportCommand(),
    predictCommand(),
    dataCommand(),
    reproduceCommand(),
    plotCommand(),
  ]) {
    root.addCommand(
      cmd
        .addOption(new Option("--verbose", "also show what the GPU drivers print while a GPU is looked for"))
        .showHelpAfterError("(run with --help for every option and its default)")
        .showSuggestionAfterError(true),
    );
  }
  // the library reads it where the GPU is probed (src/backends/index.ts, BackendOptions.verbose)
  root.hook("preAction", (_root, action) => {
    if (action.opts().verbose) process.env.BINARYCONNECT_VERBOSE = "1";
  });
  return root;
}

async function main(): Promise<void> {
  try {
    await program().parseAsync(process.argv);
  } catch (e) {
    if (e instanceof BinaryConnectError) {
      console.error(`error: ${e.message}`);
      process.exit(1);
    }
    if (e instanceof CommanderError) process.exit(e.exitCode);
    throw e;
  }
}

await main();
