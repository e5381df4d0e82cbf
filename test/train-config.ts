/** The training configuration of the tests' short MNIST trainings (train-e2e, plot). */
import type { TrainConfig } from "../src/train/config.js";

/** What such a training sets: the hidden layers, the number of epochs and the seed; anything else it changes. */
export type ShortTraining = Pick<TrainConfig, "hidden" | "epochs" | "seed"> & Partial<TrainConfig>;

/**
 * An MLP on MNIST with preset "test": H = 1, no dropout, the authors' batch norm (eps 1e-4,
 * momentum 0.15), batches of 100, the learning rate from 3e-3 to 3e-4, binary test-time weights
 * for det (else real), 500 rows a pass in evaluation, each split centred on its own mean; with
 * `training`'s values in their places (the same keys in the same order).
 */
export function mnistTestConfig(mode: TrainConfig["mode"], training: ShortTraining): TrainConfig {
  const { hidden, epochs, seed, ...others } = training;
  return {
    preset: "test",
    dataset: "mnist",
    hidden,
    mode,
    H: 1,
    dropout: { input: 0, hidden: 0 },
    batchNorm: { variant: "authors", eps: 1e-4, momentum: 0.15 },
    batchSize: 100,
    epochs,
    lrStart: 3e-3,
    lrEnd: 3e-4,
    seed,
    testTime: mode === "det" ? { kind: "binary" } : { kind: "real" },
    evalBatchSize: 500,
    meanFrom: "split",
    ...others,
  };
}
