import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { BinaryConnectError } from "../../src/core/errors.js";
import { PeerUnavailable } from "../runner.js";
import type { TimingOptions } from "../stats.js";

/** The script stays in bench/peers (tsc does not copy it): from dist/bench/peers/ up to the repo. */
const SCRIPT = fileURLToPath(new URL("../../../bench/peers/torch_gpu.py", import.meta.url));
/** Interpreters tried in order: the GPU machine's PyTorch may be in either. */
const PYTHONS = ["python3", "/usr/bin/python3"];

export interface TorchGpuInfo {
  torch: string;
  cuda: string;
  device: string;
}

/**
 * Runs bench/peers/torch_gpu.py with `task` (its docstring lists the tasks and outputs) under
 * the first interpreter whose torch sees a CUDA device. Throws PeerUnavailable when none does
 * (no Python, no torch, no GPU): the report then says "not available" and why.
 */
export async function runTorchGpu<T>(task: Record<string, unknown>, timing: TimingOptions): Promise<T & TorchGpuInfo> {
  const reasons: string[] = [];
  for (const python of PYTHONS) {
    let stdout: string;
    try {
      // BC_TORCH_GPU_DEVICE=cpu: the script on the CPU, to check it where there is no GPU (not a figure)
      const device = process.env.BC_TORCH_GPU_DEVICE === "cpu" ? { device: "cpu" } : {};
      stdout = await run(python, JSON.stringify({ ...task, ...timing, ...device }));
    } catch (e) {
      if ((e as { code?: string }).code === "ENOENT") {
        reasons.push(`${python}: not found`);
        continue;
      }
      throw new BinaryConnectError(
        `PyTorch (${python}): ${SCRIPT} failed: ${(e as Error).message.split("\n").slice(0, 8).join("\n")}`,
      );
    }
    const last = stdout.trim().split("\n").pop() ?? "";
    let out: T & TorchGpuInfo & { unavailable?: string };
    try {
      out = JSON.parse(last) as typeof out;
    } catch {
      throw new BinaryConnectError(
        `PyTorch (${python}): expected one JSON line from ${SCRIPT}, found: ${last.slice(0, 200)}`,
      );
    }
    if (!out.unavailable) return out;
    reasons.push(`${python}: ${out.unavailable}`);
  }
  throw new PeerUnavailable(
    "PyTorch (CUDA)",
    reasons.join("; "),
    "run on a machine with an NVIDIA GPU and PyTorch with CUDA",
  );
}

function run(python: string, config: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(python, [SCRIPT, config], { maxBuffer: 1 << 22, timeout: 600_000 }, (err, out, errOut) => {
      if (err) reject(Object.assign(err, { message: `${err.message}\n${errOut.trim()}` }));
      else resolve(out);
    });
  });
}
