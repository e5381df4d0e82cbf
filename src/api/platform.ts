/**
 * What the library needs from the platform it runs on and only Node provides (run folders on
 * disk). The Node entry (src/index.ts) registers it; in a browser, asking for it is a clear error.
 */
import { UsageError } from "../core/errors.js";
import type { CheckpointContents } from "../train/checkpointFormat.js";
import type { TrainConfig } from "../train/config.js";
import type { EpochRecord, RunStore } from "../train/loop.js";
import type { CheckpointMeta } from "../train/runFolder.js";
import type { Model } from "./model.js";

/** A run folder as fit uses it (src/train/runFolder.ts). */
export interface RunFolderLike extends RunStore {
  /** Takes the folder (creates and locks it, removes what killed writes left); close() releases it. */
  open(): void;
  close(): void;
  start(config: TrainConfig, history?: readonly EpochRecord[]): void;
  hasCheckpoint(): boolean;
  readCheckpoint(): CheckpointContents<CheckpointMeta>;
  /** The records of the checkpoint's epochs (metrics.jsonl is rewritten from them). */
  resume(ckpt: CheckpointContents<CheckpointMeta>): EpochRecord[];
  writeConfig(config: TrainConfig): void;
}

type RunFolderOpener = (dir: string, model: Model) => RunFolderLike;

let opener: RunFolderOpener | undefined;

export function registerRunFolder(open: RunFolderOpener): void {
  opener = open;
}

export function openRunFolder(dir: string, model: Model): RunFolderLike {
  if (!opener)
    throw new UsageError(
      `fit: checkpointDir "${dir}" needs a file system (Node.js)`,
      'in a browser, leave checkpointDir out and save the model with model.save("indexeddb://name")',
    );
  return opener(dir, model);
}
