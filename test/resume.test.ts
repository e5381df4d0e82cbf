/**
 * An interrupted run (the CLI process killed after an epoch) resumed with --resume ends with
 * the same weights as an uninterrupted run with the same seed. Runs the built CLI (dist/),
 * which `npm test` builds first.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadCheckpoint } from "../src/train/checkpoint.js";
import type { CheckpointMeta, EpochRecord } from "../src/train/trainer.js";
import { CLI, words } from "./cli-helpers.js";

const ARGS = words(
  "train --mode stoch --epochs 3 --seed 5 --threads 2 --train-size 2000 --val-size 500 --test-size 500",
);
const root = mkdtempSync(join(tmpdir(), "bc-resume-"));

function runCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts a training and kills it (SIGKILL) as soon as it reports its first epoch. */
function runAndKillAfterFirstEpoch(out: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...ARGS, "--out", out], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (/^epoch 1\/3/m.test(stdout)) child.kill("SIGKILL");
    });
    child.on("error", reject);
    child.on("exit", (_code, signal) =>
      signal === "SIGKILL" ? resolve(stdout) : reject(new Error(`not killed: ${stdout}`)),
    );
  });
}

describe("resume after a killed process", () => {
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("ends with exactly the weights of an uninterrupted run", async () => {
    const full = join(root, "full"),
      cut = join(root, "cut");
    const uninterrupted = runCli([...ARGS, "--out", full]);
    expect(uninterrupted.status, uninterrupted.stderr).toBe(0);

    await runAndKillAfterFirstEpoch(cut);
    const killed = loadCheckpoint<CheckpointMeta>(join(cut, "checkpoint.bin"));
    expect(killed.meta.epochsDone).toBeGreaterThanOrEqual(1);
    expect(killed.meta.epochsDone).toBeLessThan(3);

    const resumed = runCli(["train", "--resume", cut, "--threads", "2"]);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain("resuming");

    const a = loadCheckpoint<CheckpointMeta>(join(full, "checkpoint.bin"));
    const b = loadCheckpoint<CheckpointMeta>(join(cut, "checkpoint.bin"));
    expect(b.meta.epochsDone).toBe(3);
    expect(b.meta.step).toBe(a.meta.step);
    expect(b.tensors.map((t) => t.name)).toEqual(a.tensors.map((t) => t.name));
    for (let i = 0; i < a.tensors.length; i++) {
      expect(
        Buffer.from(b.tensors[i].data.buffer, b.tensors[i].data.byteOffset, b.tensors[i].data.byteLength).equals(
          Buffer.from(a.tensors[i].data.buffer, a.tensors[i].data.byteOffset, a.tensors[i].data.byteLength),
        ),
        a.tensors[i].name,
      ).toBe(true);
    }
    const metrics = (dir: string) =>
      readFileSync(join(dir, "metrics.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as EpochRecord);
    const strip = (r: EpochRecord) => ({ ...r, seconds: 0, examples_per_second: 0 });
    expect(metrics(cut).map(strip)).toEqual(metrics(full).map(strip));
  });

  it("refuses to start over an existing run and names the fix", () => {
    const r = runCli([...ARGS, "--out", join(root, "full")]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/already holds a run.*\n.*--resume/);
  });

  it("refuses settings that would change a resumed run", () => {
    const r = runCli(["train", "--resume", join(root, "full"), "--seed", "9"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("--seed cannot be changed");
  });
});

describe("resuming a finished run", () => {
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("says that there is nothing to train, refuses fewer epochs, and trains more with --epochs", () => {
    const dir = join(root, "extend");
    expect(runCli([...ARGS, "--epochs", "1", "--out", dir]).status).toBe(0);
    const again = runCli(["train", "--resume", dir, "--threads", "2"]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain("nothing to train: the run has finished its 1 epoch;");

    const more = runCli(["train", "--resume", dir, "--epochs", "2", "--threads", "2"]);
    expect(more.status, more.stderr).toBe(0);
    expect(more.stdout).toMatch(/^epoch 2\/2/m);
    expect(loadCheckpoint<CheckpointMeta>(join(dir, "checkpoint.bin")).meta.epochsDone).toBe(2);
    expect(readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n")).toHaveLength(2);

    const fewer = runCli(["train", "--resume", dir, "--epochs", "1"]);
    expect(fewer.status).toBe(1);
    expect(fewer.stderr).toContain("epochs 1 is fewer than the 2 this run has done");
    expect(loadCheckpoint<CheckpointMeta>(join(dir, "checkpoint.bin")).meta.epochsDone).toBe(2);
  });
});
