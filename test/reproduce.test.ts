/**
 * `binaryconnect reproduce`: plans the paper's table, runs it as separate processes, skips
 * finished runs, resumes interrupted ones exactly, and summarizes the metrics it finds. Runs the
 * built CLI (dist/), which `npm test` builds first.
 */
import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { relaxedSimdSupported } from "../src/backends/wasm/simd.js";
import { METHODS, planRuns } from "../src/reproduce/plan.js";
import { meanStd, type ExperimentResults } from "../src/reproduce/results.js";
import { loadCheckpoint } from "../src/train/checkpoint.js";
import type { CheckpointMeta, EpochRecord } from "../src/train/trainer.js";
import { words } from "./cli-helpers.js";

const CLI = new URL("../dist/src/cli/main.js", import.meta.url).pathname;
const SIZES = ["--train-size", "2000", "--val-size", "200", "--test-size", "200"];
const root = mkdtempSync(join(tmpdir(), "bc-reproduce-"));
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
const reproduce = (out: string, ...args: string[]) =>
  cli("reproduce", "mnist", "--out", out, "--backend", "wasm", "--epochs", "2", ...SIZES, ...args);
/** `train`'s arguments for run det-seed1 of the sweep below (2 epochs, wasm, 1 thread) into `dir`. */
const detSeed1 = (dir: string) => [
  ...words("--preset mnist-quick --mode det --seed 1 --epochs 2 --out"),
  dir,
  ...words("--backend wasm --threads 1"),
  ...SIZES,
];
const metrics = (dir: string) =>
  readFileSync(join(dir, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as EpochRecord);

/** Starts `train` and kills it (SIGKILL) as soon as it reports its first epoch. */
function trainAndKillAfterFirstEpoch(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, "train", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (/^epoch 1\/2/m.test(stdout)) child.kill("SIGKILL");
    });
    child.on("exit", (_code, signal) =>
      signal === "SIGKILL" ? resolve() : reject(new Error(`not killed: ${stdout}`)),
    );
  });
}

describe("reproduce plan", () => {
  it("has every method of the paper's table, seed-major, dropout for MNIST only", () => {
    const mnist = planRuns({ dataset: "mnist", budget: "quick", seeds: 2, outDir: "x" });
    expect(mnist.map((r) => r.name)).toEqual([
      "none-seed1",
      "det-seed1",
      "stoch-seed1",
      "dropout-seed1",
      "none-seed2",
      "det-seed2",
      "stoch-seed2",
      "dropout-seed2",
    ]);
    expect(mnist[0]).toMatchObject({ preset: "mnist-quick", epochs: 20, dir: join("x", "runs", "none-seed1") });
    expect(mnist[3].method).toEqual(METHODS.dropout);
    const cifar = planRuns({ dataset: "cifar10", budget: "paper", seeds: 1, outDir: "x" });
    expect(cifar.map((r) => `${r.name} ${r.preset} ${r.epochs}`)).toEqual([
      "none-seed1 cifar10-paper 500",
      "det-seed1 cifar10-paper 500",
      "stoch-seed1 cifar10-paper 500",
    ]);
    expect(() => planRuns({ dataset: "svhn", budget: "quick", seeds: 1, outDir: "x", methods: ["dropout"] })).toThrow(
      /not in the paper's svhn table/,
    );
  });

  it("mean and sample standard deviation", () => {
    expect(meanStd([])).toEqual({ mean: null, std: null });
    expect(meanStd([1.5])).toEqual({ mean: 1.5, std: null });
    const { mean, std } = meanStd([1, 2, 4]);
    expect(mean).toBeCloseTo(7 / 3, 12);
    expect(std).toBeCloseTo(Math.sqrt(((1 - 7 / 3) ** 2 + (2 - 7 / 3) ** 2 + (4 - 7 / 3) ** 2) / 2), 12);
  });

  it("rejects an unknown method with a suggestion", () => {
    const r = cli("reproduce", "mnist", "--methods", "det,stoh");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('found "stoh" (did you mean "stoch"?)');
  });
});

describe("reproduce runs", () => {
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const out = join(root, "exp");

  it("trains every run, resumes an interrupted one exactly, and writes the table", async () => {
    // det-seed1 was interrupted after its first epoch
    const detDir = join(out, "runs", "det-seed1");
    await trainAndKillAfterFirstEpoch(detSeed1(detDir));
    const r = reproduce(out, "--methods", "none,det", "--seeds", "2", "--parallel", "2");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("4 runs (0 finished, 1 to resume, 3 to start); 2 at a time, 1 thread(s) each");
    expect(r.stdout).toMatch(/det-seed1: resuming/);
    expect(readFileSync(join(detDir, "train.log"), "utf8")).toContain(
      `train --resume ${detDir} --backend wasm --threads 1 --simd auto`,
    );
    expect(metrics(detDir).map((m) => m.epoch)).toEqual([1, 2]);

    // the resumed run ends with the weights of an uninterrupted one
    const whole = join(root, "whole");
    const u = cli("train", ...detSeed1(whole));
    expect(u.status, u.stderr).toBe(0);
    const a = loadCheckpoint<CheckpointMeta>(join(whole, "checkpoint.bin")).tensors;
    const b = loadCheckpoint<CheckpointMeta>(join(detDir, "checkpoint.bin")).tensors;
    for (let i = 0; i < a.length; i++)
      expect(
        Buffer.compare(
          Buffer.from(a[i].data.buffer, a[i].data.byteOffset, a[i].data.byteLength),
          Buffer.from(b[i].data.buffer, b[i].data.byteOffset, b[i].data.byteLength),
        ),
        a[i].name,
      ).toBe(0);

    // results.json: each run's test error at its best validation epoch, mean +- std per method
    const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as ExperimentResults;
    expect(results).toMatchObject({ dataset: "mnist", budget: "quick", preset: "mnist-quick", epochs: 2, seeds: 2 });
    expect(results.machine).toMatch(/\d+ cores; wasm \(SIMD128( \+ relaxed FMA)?, 1 thread\)$/);
    expect(results.methods.map((m) => m.method)).toEqual(["none", "det"]);
    for (const m of results.methods) {
      const errors = [1, 2].map(
        (seed) => 100 * metrics(join(out, "runs", `${m.method}-seed${seed}`)).at(-1)!.test_error,
      );
      expect(m.finished).toBe(2);
      expect(m.mean).toBeCloseTo((errors[0] + errors[1]) / 2, 10);
      expect(m.std).toBeCloseTo(Math.abs(errors[0] - errors[1]) / Math.SQRT2, 10);
      expect(m.runs.map((x) => x.state)).toEqual(["finished", "finished"]);
      const wasm = (await relaxedSimdSupported())
        ? "wasm (SIMD128 + relaxed FMA, 1 thread)"
        : "wasm (SIMD128, 1 thread)"; // --simd auto
      expect(m.runs.map((x) => x.backend)).toEqual([wasm, wasm]);
    }
    expect(results.limit).toEqual({ train: 2000, validation: 200, test: 200 });
    const md = readFileSync(join(out, "results.md"), "utf8");
    expect(md).toContain(
      "**Limited data**: the runs used only the first 2000 training, 200 validation and 200 test examples",
    );
    expect(md).toContain("| No regularizer |");
    expect(md).toContain("| 1.29 +- 0.08 % |");
    expect(md).toMatch(/\| det-seed2 \| finished \| 2\/2 \|/);
  });

  it("skips finished runs on a second call", () => {
    const ckpt = join(out, "runs", "none-seed1", "checkpoint.bin");
    const before = statSync(ckpt).mtimeMs;
    const r = reproduce(out, "--methods", "none,det", "--seeds", "2");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("4 runs (4 finished, 0 to resume, 0 to start)");
    expect(statSync(ckpt).mtimeMs).toBe(before);
  });

  it("refuses to continue an experiment with other settings, naming them, and leaves its record as it was", () => {
    const record = readFileSync(join(out, "sweep.json"), "utf8");
    const r = reproduce(out, "--methods", "none", "--seeds", "1", "--train-size", "3000");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      "holds an experiment with other settings: data options --train-size 2000 --val-size 200 --test-size 200 there, --train-size 3000 --val-size 200 --test-size 200 now",
    );
    expect(readFileSync(join(out, "sweep.json"), "utf8")).toBe(record);
  });

  it("refuses a run folder trained with other settings", () => {
    // a run folder of another experiment under this one's (no record of the experiment to compare first)
    const other = join(root, "other");
    mkdirSync(join(other, "runs"), { recursive: true });
    cpSync(join(out, "runs", "none-seed1"), join(other, "runs", "none-seed1"), { recursive: true });
    const r = reproduce(other, "--methods", "none", "--seeds", "1", "--epochs", "3");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("holds a run with epochs 2, but this experiment trains epochs 3");
  });

  /** DIR/runs/none-seed1 with the configuration of a 2-epoch mnist-quick run (no checkpoint yet): its folder. */
  function noneRunOf(dir: string): string {
    const runDir = join(dir, "runs", "none-seed1");
    mkdirSync(runDir, { recursive: true });
    writeFileSync(
      join(runDir, "config.json"),
      JSON.stringify({ preset: "mnist-quick", mode: "none", seed: 1, epochs: 2, dropout: { input: 0, hidden: 0 } }),
    );
    return runDir;
  }

  it("leaves a run that another process trains now to it, and status says so", async () => {
    const busy = join(root, "busy");
    const runDir = noneRunOf(busy);
    writeFileSync(join(runDir, "checkpoint.bin"), "a checkpoint being written by its trainer");
    // the lock of a live process on this host: the trainer
    const trainer = spawn("sleep", ["60"]);
    const lock = { pid: trainer.pid, host: hostname(), started: new Date().toISOString() };
    writeFileSync(join(runDir, "train.lock"), `${JSON.stringify(lock)}\n`);
    try {
      const r = reproduce(busy, "--methods", "none", "--seeds", "1");
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain("1 runs (0 finished, 1 training in another process, 0 to resume, 0 to start)");
      expect(r.stdout).toContain(`none-seed1: left to process ${trainer.pid} on ${hostname()}, which trains it now`);
      expect(readFileSync(join(runDir, "checkpoint.bin"), "utf8")).toBe("a checkpoint being written by its trainer");
      const status = cli("reproduce", "status", busy);
      expect(status.status, status.stderr).toBe(0);
      expect(status.stdout).toMatch(new RegExp(`none-seed1 {2}training 0/2 epochs +pid ${trainer.pid}`));
      expect(status.stdout).toContain("0 finished, 1 training, 0 with a checkpoint, 0 not started");
    } finally {
      trainer.kill();
      await new Promise((done) => trainer.once("exit", done));
    }
    // its trainer gone, the run is interrupted (a later reproduce resumes it)
    const after = cli("reproduce", "status", busy);
    expect(after.stdout).toMatch(/none-seed1 {2}interrupted 0\/2 epochs +-/);
  });

  it("leaves a run locked from another host to it, saying how to take it back", () => {
    const remote = join(root, "remote");
    const runDir = noneRunOf(remote);
    const lock = { pid: 4242, host: `not-${hostname()}`, started: new Date().toISOString() };
    writeFileSync(join(runDir, "train.lock"), `${JSON.stringify(lock)}\n`);
    const r = reproduce(remote, "--methods", "none", "--seeds", "1");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      `none-seed1: left to process 4242 on not-${hostname()}, which trains it now (if nothing trains it there any more, delete ${join(runDir, "train.lock")})`,
    );
    expect(cli("reproduce", "status", remote).stdout).toMatch(
      new RegExp(`none-seed1 {2}training 0/2 epochs +not-${hostname()}, pid 4242`),
    );
  });

  it("refuses to start CIFAR-10 or SVHN runs whose prepared data is missing, naming the command that prepares it", () => {
    const empty = join(root, "empty-cache");
    mkdirSync(empty, { recursive: true });
    for (const [dataset, command] of [
      ["cifar10", "binaryconnect data cifar10"],
      ["svhn", "binaryconnect data svhn --from DIR"],
    ]) {
      const out = join(root, `unprepared-${dataset}`);
      const r = cli("reproduce", dataset, "--out", out, "--data", empty, "--seeds", "1");
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(`is not prepared: .*${empty}.* is missing\\n {2}hint: run \`${command}\` first`),
      );
      expect(r.stdout).not.toMatch(/starting/);
    }
  });

  it("reports a failed run and goes on with the others", () => {
    const bad = join(root, "bad");
    // a corrupt checkpoint in an unfinished run: its resume fails, the other run still trains
    mkdirSync(join(bad, "runs", "none-seed1"), { recursive: true });
    writeFileSync(
      join(bad, "runs", "none-seed1", "config.json"),
      JSON.stringify({ preset: "mnist-quick", mode: "none", seed: 1, epochs: 2, dropout: { input: 0, hidden: 0 } }),
    );
    writeFileSync(join(bad, "runs", "none-seed1", "checkpoint.bin"), "not a checkpoint");
    const r = reproduce(bad, "--methods", "none,det", "--seeds", "1");
    expect(r.status).toBe(1);
    // the cause from the run's train.log, in the runner's line and in the final error
    expect(r.stdout).toMatch(/none-seed1: FAILED \(exit code 1\): error: .*checkpoint\.bin.*; see /);
    expect(r.stdout).toContain("det-seed1: finished");
    expect(r.stderr).toMatch(/1 run\(s\) failed: none-seed1; each with error: .*checkpoint\.bin/);
    const results = JSON.parse(readFileSync(join(bad, "results.json"), "utf8")) as ExperimentResults;
    expect(results.methods[0].runs[0].state).toBe("failed");
    expect(results.methods[1].finished).toBe(1);
  });
});
