import { parseArchitecture } from "../../src/nn/architecture.js";
import type { CnnSpec } from "../cnn-spec.js";
import type { TimingOptions } from "../stats.js";
import { threadsLabel } from "../suite.js";
import { runTorchPeer, type InitFile, type TorchStepResult } from "./torch-mlp.js";

/**
 * Peer: the benchmarked CNN's training step (bench/cnn-spec.ts, `spec`'s architecture) in
 * PyTorch on the CPU (oneDNN convolutions), measured by bench/peers/torch_cnn.py in a child
 * process of this run from the shared start in `initFile` (its batch `batch`): the losses of
 * the first `lossSteps` steps, then the timed steps (and with `profileSteps`, the per-operator
 * table of that many more). Throws PeerUnavailable without torch.
 */
export function measureTorchCnn(
  spec: CnnSpec,
  label: string,
  initFile: InitFile,
  batch: number,
  threads: number,
  lossSteps: number,
  timing: TimingOptions,
  profileSteps = 0,
): Promise<TorchStepResult> {
  return runTorchPeer("torch_cnn.py", `PyTorch ${label} ${threadsLabel(threads)}`, threads, {
    spec,
    layers: parseArchitecture(spec.architecture),
    init: initFile.path,
    batch,
    threads,
    lossSteps,
    ...timing,
    profile: profileSteps,
  });
}
