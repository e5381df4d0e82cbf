/**
 * `reproduce --on slurm` against a real one-node Slurm (scripts/slurm-local.sh: Debian's
 * slurmctld, slurmd and munge). CI starts that cluster (.ci/run); elsewhere the test starts it
 * when it can (root) and stops it again, and is skipped only off CI on a machine where it can't.
 * Runs the built CLI (dist/), which `npm test` builds first.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExperimentResults } from "../src/reproduce/results.js";
import { jobName, readSubmissions } from "../src/reproduce/slurm.js";
import { reproduceOn } from "./cli-helpers.js";

const CLI = new URL("../dist/src/cli/main.js", import.meta.url).pathname;
const SCRIPT = new URL("../scripts/slurm-local.sh", import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), "bc-cluster-slurm-"));

const sh = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: "utf8" });
const cli = (...args: string[]) => sh(process.execPath, [CLI, ...args]);
/** The CLI in the background (the local runner while the cluster trains). */
const cliAsync = (...args: string[]) =>
  new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "",
      stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    child.on("close", (status) => done({ status, stdout, stderr }));
  });

const running = sh("bash", [SCRIPT, "status"]).status === 0;
const canStart = process.getuid?.() === 0;
const CI = process.env.CI === "true";
let started = false;

/** A sweep small enough for two cores: 2 methods x 2 seeds, 2 epochs. */
const SWEEP = [
  "--methods",
  "none,det",
  "--seeds",
  "2",
  "--epochs",
  "2",
  "--backend",
  "wasm",
  "--threads",
  "1",
  "--train-size",
  "500",
  "--val-size",
  "100",
  "--test-size",
  "100",
];

const bytes = (path: string) => readFileSync(path);
/** metrics.jsonl without the timings (the only thing that differs between two identical runs). */
const metricsWithoutTimes = (dir: string) =>
  readFileSync(join(dir, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => {
      const r = JSON.parse(l) as Record<string, unknown>;
      for (const k of Object.keys(r)) if (/second/.test(k)) delete r[k];
      return r;
    });

/** squeue's lines for the experiment in `out` (one per array task still held). */
const queued = (out: string) =>
  sh("squeue", [
    "--noheader",
    "--array",
    `--name=${jobName({ dataset: "mnist", budget: "quick", seeds: 1, outDir: out })}`,
    "--format=%i %T",
  ])
    .stdout.trim()
    .split("\n")
    .filter(Boolean);

async function until(what: string, cond: () => boolean, seconds: number): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Every run folder of `out` finished and the scheduler holds none of its tasks. */
const done = (out: string, runs: string[]) => () =>
  queued(out).length === 0 &&
  runs.every((r) => {
    try {
      return readFileSync(join(out, "runs", r, "train.log"), "utf8").includes("done: best validation error");
    } catch {
      return false;
    }
  });

const RUNS = ["none-seed1", "det-seed1", "none-seed2", "det-seed2"];

describe.skipIf(!running && !canStart && !CI)("reproduce --on slurm (a one-node Slurm cluster)", () => {
  beforeAll(() => {
    if (running) return;
    const r = sh("bash", [SCRIPT, "start"]);
    expect(r.status, `scripts/slurm-local.sh start: ${r.stderr}`).toBe(0);
    started = true;
  }, 600_000);
  afterAll(() => {
    for (const out of [join(root, "slurm"), join(root, "signals")])
      for (const line of queued(out)) sh("scancel", [line.split(" ")[0]]);
    if (started) sh("bash", [SCRIPT, "stop"]);
    rmSync(root, { recursive: true, force: true });
  });

  const slurmOut = join(root, "slurm");
  const localOut = join(root, "local");

  it("trains a sweep through sbatch to the local runner's bytes; the same command again submits nothing twice", async () => {
    const local = cliAsync("reproduce", "mnist", "--out", localOut, ...SWEEP, "--parallel", "1");
    const first = cli(...reproduceOn("slurm", slurmOut, SWEEP, "--parallel", "2"));
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toContain("4 runs: 0 finished, 0 queued or running, 4 to submit");
    expect(first.stdout).toMatch(/submitted job \d+: array tasks 0-3 \(none-seed1, det-seed1, none-seed2, det-seed2\)/);
    const script = readFileSync(join(slurmOut, "slurm", "sweep.sbatch"), "utf8");
    expect(script).toContain("#SBATCH --requeue");
    expect(script).toContain("#SBATCH --signal=B:USR1@120");

    // again while the tasks are queued or running: nothing is submitted
    const again = cli(...reproduceOn("slurm", slurmOut, SWEEP, "--parallel", "2"));
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/4 runs: 0 finished, 4 queued or running .*, 0 to submit/);
    expect(again.stdout).toContain("nothing to submit");
    expect(readSubmissions(slurmOut)).toHaveLength(1);
    expect(queued(slurmOut).length).toBeLessThanOrEqual(4);

    const status = cli("reproduce", "status", slurmOut);
    expect(status.status, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/none-seed1 .* (PENDING|RUNNING|COMPLETING) \(job \d+_0/);

    await until("the Slurm tasks", done(slurmOut, RUNS), 120);
    const l = await local;
    expect(l.status, l.stderr).toBe(0);

    // after they finished: still nothing to submit
    const after = cli(...reproduceOn("slurm", slurmOut, SWEEP, "--parallel", "2"));
    expect(after.stdout).toContain("4 runs: 4 finished, 0 queued or running, 0 to submit");
    expect(readSubmissions(slurmOut)).toHaveLength(1);

    const collect = cli("reproduce", "collect", slurmOut);
    expect(collect.status, collect.stderr).toBe(0);
    expect(collect.stdout).toContain("4/4 runs finished");

    for (const run of RUNS) {
      const a = join(localOut, "runs", run),
        b = join(slurmOut, "runs", run);
      expect(bytes(join(b, "checkpoint.bin")).equals(bytes(join(a, "checkpoint.bin"))), `${run} checkpoint.bin`).toBe(
        true,
      );
      expect(bytes(join(b, "best.bin")).equals(bytes(join(a, "best.bin"))), `${run} best.bin`).toBe(true);
      expect(metricsWithoutTimes(b)).toEqual(metricsWithoutTimes(a));
      // the task ran the local runner's command line (its run folder aside)
      const command = (dir: string, out: string) =>
        readFileSync(join(dir, "train.log"), "utf8").split("\n")[0].replaceAll(resolve(out), "OUT");
      expect(command(b, slurmOut)).toBe(command(a, localOut));
    }
    const results = (out: string) => {
      const x = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as ExperimentResults;
      return x.methods.map((m) => ({
        ...m,
        runs: m.runs.map(({ seconds: _s, backend: _b, ...r }) => r),
      }));
    };
    expect(results(slurmOut)).toEqual(results(localOut));
    expect(readFileSync(join(slurmOut, "results.md"), "utf8")).toMatch(/Machine: Slurm \(jobs \d+\); wasm/);
  }, 240_000);

  it("a task signalled by the scheduler checkpoints mid-epoch and resumes to the same final bytes (requeued; or resubmitted by the same command)", async () => {
    const out = join(root, "signals");
    const ref = join(root, "signals-local");
    // an epoch long enough to be signalled inside it
    const args = [
      "--methods",
      "none,det",
      "--seeds",
      "1",
      "--epochs",
      "4",
      "--backend",
      "wasm",
      "--threads",
      "1",
      "--train-size",
      "2000",
      "--val-size",
      "100",
      "--test-size",
      "100",
    ];
    const local = cliAsync("reproduce", "mnist", "--out", ref, ...args, "--parallel", "1");
    const r = cli(...reproduceOn("slurm", out, args));
    expect(r.status, r.stderr).toBe(0);
    const jobId = readSubmissions(out)[0].jobId;
    const log = (run: string) => {
      try {
        return readFileSync(join(out, "runs", run, "train.log"), "utf8");
      } catch {
        return "";
      }
    };
    // both inside their second epoch: task 0 gets the time-limit warning (requeues itself), task 1 SIGTERM (stops)
    await until("the first epochs", () => RUNS.slice(0, 2).every((run) => log(run).includes("epoch 1/4")), 90);
    expect(sh("scancel", ["--batch", "--signal=USR1", `${jobId}_0`]).status).toBe(0);
    expect(sh("scancel", ["--batch", "--signal=TERM", `${jobId}_1`]).status).toBe(0);
    await until(
      "both checkpoints",
      () => log("none-seed1").includes("stopped (SIGTERM") && log("det-seed1").includes("stopped (SIGTERM"),
      60,
    );
    for (const run of RUNS.slice(0, 2))
      expect(log(run)).toMatch(
        /stopped \(SIGTERM received\) (in epoch [2-4] after step \d+|after epoch [1-3]); checkpoint/,
      );

    // the signals came while a step was under way (a signal exactly between two epochs is the rarer case)
    expect(
      RUNS.slice(0, 2).some((run) => /stopped \(SIGTERM received\) in epoch \d after step \d+/.test(log(run))),
    ).toBe(true);

    // the stopped task (not the requeued one, which the scheduler holds) is submitted again by the same command
    await until("the stopped task to leave the queue", () => !queued(out).some((l) => l.startsWith(`${jobId}_1 `)), 60);
    const again = cli(...reproduceOn("slurm", out, args));
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/submitted job \d+: array tasks 1 \(det-seed1\)/);

    await until("the resumed tasks", done(out, RUNS.slice(0, 2)), 120);
    const l = await local;
    expect(l.status, l.stderr).toBe(0);
    const taskLogs = readdirSync(join(out, "slurm", "logs"))
      .map((f) => readFileSync(join(out, "slurm", "logs", f), "utf8"))
      .join("\n");
    expect(taskLogs).toContain("requeued: the next attempt resumes the run");
    expect(taskLogs).toMatch(/task 0 on .*, attempt 2: binaryconnect train --resume /);
    for (const run of RUNS.slice(0, 2)) {
      expect(log(run)).toContain(`$ binaryconnect train --resume ${join(out, "runs", run)} --backend wasm`);
      for (const file of ["checkpoint.bin", "best.bin"])
        expect(bytes(join(out, "runs", run, file)).equals(bytes(join(ref, "runs", run, file))), `${run} ${file}`).toBe(
          true,
        );
      expect(metricsWithoutTimes(join(out, "runs", run))).toEqual(metricsWithoutTimes(join(ref, "runs", run)));
    }
  }, 300_000);
});

describe("reproduce --on slurm without Slurm", () => {
  it("a missing sbatch is a typed error that says how to run the sweep locally", () => {
    const out = join(root, "nosbatch");
    const noPath = spawnSync(process.execPath, [CLI, ...reproduceOn("slurm", out, [], "--seeds", "1")], {
      encoding: "utf8",
      env: { ...process.env, PATH: join(root, "no-such-folder") },
    });
    expect(noPath.status).toBe(1);
    expect(noPath.stderr).toContain("error: --on slurm needs Slurm's sbatch on PATH; found no sbatch");
    expect(noPath.stderr).toContain("hint: run the sweep on this machine instead: the same command without --on slurm");
    // nothing was written: no sweep record that says it went to Slurm
    expect(cli("reproduce", "status", out).stderr).toContain("is not an experiment folder");
  });

  it("status and collect read a local experiment's folder the same way", () => {
    const out = join(root, "local-status");
    const r = cli(
      "reproduce",
      "mnist",
      "--out",
      out,
      ...SWEEP.slice(0, 1),
      "none",
      "--seeds",
      "1",
      "--epochs",
      "1",
      ...SWEEP.slice(6),
    );
    expect(r.status, r.stderr).toBe(0);
    const status = cli("reproduce", "status", out);
    expect(status.status, status.stderr).toBe(0);
    expect(status.stdout).toContain(`${out}: mnist, quick budget, 1 runs on local`);
    expect(status.stdout).toMatch(/0 {2}none-seed1 {2}finished 1\/1 epochs/);
    const before = readFileSync(join(out, "results.json"), "utf8");
    const collect = cli("reproduce", "collect", out);
    expect(collect.status, collect.stderr).toBe(0);
    expect(collect.stdout).toContain("1/1 runs finished");
    expect(readFileSync(join(out, "results.json"), "utf8")).toBe(before);
    const missing = cli("reproduce", "status", join(root, "nothing"));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("is not an experiment folder: expected");
  });

  it("--dry-run writes the job script and the sbatch command without Slurm", () => {
    const out = join(root, "dry");
    const r = spawnSync(
      process.execPath,
      [
        CLI,
        ...reproduceOn("slurm", out, SWEEP),
        "--dry-run",
        "--parallel",
        "3",
        "--time",
        "2:00:00",
        "--partition",
        "cpu",
        "--account",
        "lab",
        "--gpus",
        "1",
        "--sbatch-arg=--qos=long",
      ],
      { encoding: "utf8", env: { ...process.env, PATH: join(root, "no-such-folder") } },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`to submit: sbatch --parsable --array=0-3%3 ${resolve(out, "slurm", "sweep.sbatch")}`);
    const script = readFileSync(join(out, "slurm", "sweep.sbatch"), "utf8");
    for (const line of [
      "#SBATCH --time=2:00:00",
      "#SBATCH --partition=cpu",
      "#SBATCH --account=lab",
      "#SBATCH --gpus=1",
      "#SBATCH --qos=long",
      "#SBATCH --cpus-per-task=1",
    ])
      expect(script).toContain(line);
    expect(script).toContain(
      `START=(train --preset mnist-quick --mode det --seed 2 --epochs 2 --out ${resolve(out, "runs", "det-seed2")} --backend wasm --threads 1 --simd auto --train-size 500 --val-size 100 --test-size 100)`,
    );
    expect(sh("bash", ["-n", join(out, "slurm", "sweep.sbatch")]).status).toBe(0);
    // the experiment's record is written too: status reads the folder before anything is submitted
    const status = spawnSync(process.execPath, [CLI, "reproduce", "status", out], { encoding: "utf8" });
    expect(status.status, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/det-seed2/);
  });

  it("a task stopped by USR1 whose requeue fails says so and exits with the training's status (143)", async () => {
    const out = join(root, "requeue-fails");
    const bin = join(root, "fake-bin");
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, "scontrol"), "#!/bin/sh\necho 'scontrol: error: Unexpected message' >&2\nexit 1\n", {
      mode: 0o755,
    });
    const dry = spawnSync(
      process.execPath,
      [CLI, ...reproduceOn("slurm", out, SWEEP), "--epochs", "200", "--dry-run"],
      {
        encoding: "utf8",
        env: { ...process.env, PATH: join(root, "no-such-folder") },
      },
    );
    expect(dry.status, dry.stderr).toBe(0);
    const log = join(out, "runs", "none-seed1", "train.log");
    const task = spawn("bash", [join(out, "slurm", "sweep.sbatch")], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, SLURM_ARRAY_TASK_ID: "0", SLURM_JOB_ID: "999" },
    });
    let output = "";
    task.stdout.on("data", (d: Buffer) => (output += d.toString()));
    task.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((done) => task.on("exit", (code) => done(code)));
    // the training has started (its data line is in its log): the scheduler's warning before the time limit
    while (!(existsSync(log) && readFileSync(log, "utf8").includes("data: ")))
      await new Promise((r) => setTimeout(r, 50));
    task.kill("SIGUSR1");
    expect(await exited, output).toBe(143);
    expect(output).toContain("scontrol requeue failed: the same reproduce command resubmits the run");
    expect(output).not.toContain("requeued: the next attempt");
  });

  it("refuses a scheduler's options without --on (they would be ignored, and the runs trained here)", () => {
    const out = join(root, "misplaced");
    const r = spawnSync(
      process.execPath,
      [CLI, ...reproduceOn("local", out, SWEEP), "--dry-run", "--partition", "cpu"],
      {
        encoding: "utf8",
      },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("--dry-run (slurm), --partition (slurm) are not for --on local");
    expect(existsSync(out)).toBe(false);
    const k8s = spawnSync(process.execPath, [CLI, ...reproduceOn("k8s", out, SWEEP), "--pvc", "c", "--time", "10"], {
      encoding: "utf8",
    });
    expect(k8s.status).toBe(1);
    expect(k8s.stderr).toContain("--time (slurm) is not for --on k8s");
  });
});
