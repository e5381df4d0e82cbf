import type { Backend } from "../backends/backend.js";
import { CheckpointError } from "../core/errors.js";
import type { Preprocessing } from "../data/preprocessing.js";
import type { Network } from "../nn/network.js";
import type { TrainConfig } from "./config.js";
import { NO_BEST, runEpochs, type Best, type EpochRecord, type Splits, type TrainCallbacks } from "./loop.js";
import { createModel } from "./model.js";
import { writeModelState } from "./modelState.js";
import { RunFolder, CHECKPOINT_FILE } from "./runFolder.js";

export type { Best, EpochRecord, EpochResult, PartialEpoch, Splits, TrainCallbacks } from "./loop.js";
export { BEST_FILE, CHECKPOINT_FILE, CONFIG_FILE, LOCK_FILE, METRICS_FILE, type CheckpointMeta } from "./runFolder.js";

export interface TrainOptions {
  config: TrainConfig;
  backend: Backend;
  data: Splits;
  /** Run folder: metrics.jsonl, checkpoint.bin (every epoch), best.bin (best validation). */
  outDir?: string;
  /** Continue from outDir's checkpoint (the config is taken from the checkpoint). */
  resume?: boolean;
  callbacks?: TrainCallbacks;
  /** Stop after this many epochs of this call (tests of interrupted runs). */
  maxEpochsThisCall?: number;
  /** Saved with every checkpoint (the model's input preprocessing). */
  preprocessing?: Preprocessing;
  signal?: AbortSignal;
}

export interface TrainResult {
  model: Network;
  records: EpochRecord[];
  best: Best;
}

/**
 * A run of a configuration from its seed, or resumed from its run folder (paper Algorithm 1,
 * the authors' training loop: src/train/loop.ts). The CLI's `train` and the library's
 * `Model.fit` both run through runEpochs.
 */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const { backend, data, outDir } = opts;
  const folder = outDir ? new RunFolder(outDir, opts.preprocessing) : undefined;
  if (opts.resume && !folder) throw new CheckpointError("resume needs the run folder (--resume DIR)");
  folder?.open();
  try {
    const start = opts.resume ? folder!.readCheckpoint() : null;
    const config = start?.meta.config ?? opts.config;
    const model = createModel(backend, config, data.train.features);
    let best: Best = NO_BEST;
    let epochsDone = 0;
    if (start) {
      writeModelState(model, start.tensors, true, `${outDir}/${CHECKPOINT_FILE}`);
      model.optimizer.t = start.meta.step;
      best = start.meta.best;
      epochsDone = start.meta.epochsDone;
      folder!.resume(start);
    } else {
      folder?.start(config);
    }
    const result = await runEpochs({
      config,
      model,
      data,
      epochsDone,
      best,
      partial: start?.meta.partial,
      stored: Boolean(start),
      callbacks: opts.callbacks,
      store: folder,
      maxEpochsThisCall: opts.maxEpochsThisCall,
      signal: opts.signal,
    });
    return { model, records: result.records, best: result.best };
  } finally {
    folder?.close();
  }
}
