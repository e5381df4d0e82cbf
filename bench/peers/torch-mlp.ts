import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BinaryConnectError } from "../../src/core/errors.js";
import { PeerUnavailable, type StepResult } from "../runner.js";
import type { InitialState, MlpSpec } from "../spec.js";
import { torchIsaCaps } from "../options.js";
import { threadsLabel } from "../suite.js";
import { summarize, type TimingOptions } from "../stats.js";

/** Debian's python3-torch installs for the system interpreter (apt-get install python3-torch). */
export const PYTHON = "/usr/bin/python3";
// The scripts stay in bench/peers (tsc does not copy them): runTorchPeer finds them from dist/bench/peers/ up to the repo.

/** The shared start written once for the child processes; `cleanup` removes it. */
export interface InitFile {
  readonly path: string;
  cleanup(): Promise<void>;
}

/** Writes the weights, then x, then targets as float32 little-endian (torch_mlp.py's layout). */
export async function writeInitFile(init: InitialState): Promise<InitFile> {
  const dir = await mkdtemp(join(tmpdir(), "binaryconnect-bench-"));
  const path = join(dir, "init.f32");
  const parts = [...init.weights, init.x, init.targets];
  const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    all.set(p, offset);
    offset += p.length;
  }
  await writeFile(path, new Uint8Array(all.buffer)); // x86 and WebAssembly are little-endian
  return { path, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

interface TorchOutput {
  unavailable?: string;
  torch?: string;
  threads?: number;
  losses?: number[];
  seconds?: number[];
  repsPerRun?: number;
  blas?: string;
  profile?: string;
}

/** A PyTorch peer's step, and with a profile asked for, its per-operator table (bc_torch.py profile_table). */
export type TorchStepResult = StepResult & { profile?: string };

/** A short name of the BLAS torch uses, with a hint when it is the slow reference BLAS. */
function blasLabel(path: string | undefined): string {
  if (!path || path === "?") return "BLAS: ?";
  if (/openblas/i.test(path)) return `BLAS: OpenBLAS (${path.split("/").slice(-2).join("/")})`;
  return `BLAS: ${path} - the reference BLAS, ~15x slower than OpenBLAS: apt-get install libopenblas0-pthread`;
}

/** ", vector ISA capped: NAME=value, ..." when the environment caps the peer's vectors (bench --torch-isa), else "". */
export function capsLabel(env: NodeJS.ProcessEnv): string {
  const caps = torchIsaCaps(env);
  return caps.length === 0 ? "" : `, vector ISA capped: ${caps.join(", ")}`;
}

/**
 * Peer: the training step in PyTorch (CPU), measured by bench/peers/torch_mlp.py in a child
 * process of this run, with the same timing method (warm-up, runs of >= minRunMs). Throws
 * PeerUnavailable when /usr/bin/python3 or its torch module is missing.
 */
export async function measureTorch(
  spec: MlpSpec,
  initFile: InitFile,
  threads: number,
  lossSteps: number,
  timing: TimingOptions,
  profileSteps = 0,
): Promise<TorchStepResult> {
  return runTorchPeer("torch_mlp.py", `PyTorch ${threadsLabel(threads)}`, threads, {
    spec,
    init: initFile.path,
    threads,
    lossSteps,
    ...timing,
    profile: profileSteps,
  });
}

/**
 * Runs a CPU PyTorch peer script of bench/peers (torch_mlp.py, torch_cnn.py) with `config` as
 * its JSON argument, OMP_NUM_THREADS and OPENBLAS_NUM_THREADS set to `threads`, and reads its
 * one JSON line (losses, seconds per step, repetitions per run) as a StepResult named `name`.
 */
export async function runTorchPeer(
  script: string,
  name: string,
  threads: number,
  config: Record<string, unknown>,
): Promise<TorchStepResult> {
  const path = fileURLToPath(new URL(`../../../bench/peers/${script}`, import.meta.url));
  if (!existsSync(PYTHON)) throw new PeerUnavailable(name, `${PYTHON} not found`, "apt-get install -y python3-torch");
  const stdout = await new Promise<string>((resolve, reject) => {
    const env = { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) };
    execFile(
      PYTHON,
      [path, JSON.stringify(config)],
      { env, maxBuffer: 1 << 20, timeout: 600_000 },
      (err, out, errOut) => {
        if (err)
          reject(new BinaryConnectError(`${name}: ${path} failed (${err.message.split("\n")[0]})\n${errOut.trim()}`));
        else resolve(out);
      },
    );
  });
  const lastLine = stdout.trim().split("\n").pop() ?? "";
  let out: TorchOutput;
  try {
    out = JSON.parse(lastLine) as TorchOutput;
  } catch {
    throw new BinaryConnectError(`${name}: expected one JSON line from ${path}, found: ${lastLine.slice(0, 200)}`);
  }
  if (out.unavailable) throw new PeerUnavailable(name, out.unavailable, "apt-get install -y python3-torch");
  if (!out.losses || !out.seconds || !out.repsPerRun) {
    throw new BinaryConnectError(`${name}: incomplete output from ${path}: ${lastLine.slice(0, 200)}`);
  }
  return {
    name,
    description: `PyTorch ${out.torch} (CPU, Debian python3-torch), ${threadsLabel(out.threads ?? threads)}, ${blasLabel(out.blas)}${capsLabel(process.env)}`,
    sharedStart: true,
    threads,
    losses: out.losses,
    timing: summarize(out.seconds, out.repsPerRun),
    ...(out.profile === undefined ? {} : { profile: out.profile }),
  };
}
