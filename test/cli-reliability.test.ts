/**
 * The CLI under faults (runs the built CLI, dist/): SIGTERM / SIGINT at a random step of a
 * training (a checkpoint there, exit status 143 / 130, and a resume that ends with the bytes of
 * an uninterrupted run), SIGKILL at file operations (BINARYCONNECT_TEST_FAULT), I/O errors and
 * damaged files as one `error:` line with a hint (never a stack trace), divergence, the run
 * folder's lock, and `reproduce` stopped by a signal or killed.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { devNull, tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { afterAll, describe, expect, it, vi } from "vitest";
import { progressCallbacks } from "../src/cli/progress.js";
import { stopOnSignals, TrainingStopped } from "../src/cli/train.js";
import { encodeCheckpoint, loadCheckpoint } from "../src/train/checkpoint.js";
import { firstNonFinite } from "../src/train/finite.js";
import type { CheckpointMeta } from "../src/train/trainer.js";
import { withoutTimings, metricsOf, cli, expectCleanError, CLI, words } from "./cli-helpers.js";

const root = mkdtempSync(join(tmpdir(), "bc-cli-faults-"));
const SMALL = words("--backend wasm --threads 1 --train-size 1000 --val-size 200 --test-size 200");
/** 20 steps an epoch, 2 epochs (about 1 s of training). */
const ARGS = ["train", ...SMALL, "--epochs", "2", "--batch-size", "50", "--seed", "3"];

const counted = { signals: 0, midEpoch: 0, kills: 0, ioErrors: 0, damaged: 0 };

let reference:
  | { dir: string; checkpoint: Buffer; best: Buffer; metrics: ReturnType<typeof withoutTimings>[] }
  | undefined;
function uninterrupted(): NonNullable<typeof reference> {
  if (!reference) {
    const dir = join(root, "reference");
    const r = cli([...ARGS, "--out", dir]);
    expect(r.status, r.stderr).toBe(0);
    reference = {
      dir,
      checkpoint: readFileSync(join(dir, "checkpoint.bin")),
      best: readFileSync(join(dir, "best.bin")),
      metrics: metricsOf(dir).map(withoutTimings),
    };
  }
  return reference;
}

function expectSameAsReference(dir: string, what: string): void {
  const ref = uninterrupted();
  expect(readFileSync(join(dir, "checkpoint.bin")).equals(ref.checkpoint), `${what}: checkpoint.bin`).toBe(true);
  expect(readFileSync(join(dir, "best.bin")).equals(ref.best), `${what}: best.bin`).toBe(true);
  const metrics = metricsOf(dir);
  expect(metrics.map(withoutTimings), `${what}: metrics.jsonl`).toEqual(ref.metrics);
  for (const r of metrics) expect(r.seconds, `${what}: epoch ${r.epoch}'s seconds`).toBeGreaterThan(0);
  expect(readdirSync(dir).sort(), what).toEqual(["best.bin", "checkpoint.bin", "config.json", "metrics.jsonl"]);
}

/** Starts a training; `onLine` sees each stdout line. Resolves with its exit status, signal and output. */
function start(
  args: string[],
  onLine: (line: string, child: ChildProcess) => void = () => {},
): {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
} {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "",
    stderr = "",
    pending = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    pending += chunk.toString();
    const lines = pending.split("\n");
    pending = lines.pop()!;
    for (const line of lines) onLine(line, child);
  });
  child.stderr!.on("data", (chunk: Buffer) => void (stderr += chunk.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
      child.on("error", reject);
      child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    },
  );
  return { child, done };
}

afterAll(() => {
  console.log(
    `CLI faults: ${counted.signals} SIGTERM/SIGINT (${counted.midEpoch} part way through an epoch), ${counted.kills} SIGKILLs at file operations, ` +
      `${counted.ioErrors} I/O errors, ${counted.damaged} damaged files; every one an exact resume or one error line`,
  );
  rmSync(root, { recursive: true, force: true });
});

describe("the signal handler of train", () => {
  it("stops the progress bar at once (the cursor shown again), aborts with the signal, and ignores a repeat within a second", () => {
    const err = process.stderr as unknown as { isTTY: boolean; write: (s: string) => boolean };
    const written: string[] = [];
    const saved = { isTTY: err.isTTY, write: err.write };
    const exit = vi.spyOn(process, "exit").mockImplementation((() => undefined) as never);
    err.isTTY = true;
    err.write = (s: string) => {
      written.push(String(s));
      return true;
    };
    const said = vi.spyOn(console, "error").mockImplementation(() => {});
    const progress = progressCallbacks(3, () => {});
    const stopper = stopOnSignals(progress, false); // (this test's process has the test runner's IPC channel: left alone)
    try {
      progress.onEpochStart!(1, 10);
      progress.onBatch!(3, 10, 100);
      expect(written).toContain("\u001b[?25l"); // the bar hides the cursor
      process.emit("SIGTERM");
      expect(written.slice(written.indexOf("\u001b[?25l"))).toContain("\u001b[?25h");
      expect(stopper.signal.aborted).toBe(true);
      expect(stopper.signal.reason).toBeInstanceOf(TrainingStopped);
      expect((stopper.signal.reason as TrainingStopped).signal).toBe("SIGTERM");
      progress.onBatch!(4, 10, 100); // the step under way ends: nothing drawn
      expect(written.at(-1)).not.toMatch(/4\/10 batches/);
      process.emit("SIGINT"); // a repeat (a terminal's Ctrl-C reaches every process of its group)
      expect(exit).not.toHaveBeenCalled();
      expect(said).toHaveBeenCalledWith(expect.stringContaining("SIGTERM received: stopping after the current step"));
    } finally {
      stopper.dispose();
      progress.stop();
      err.isTTY = saved.isTTY;
      err.write = saved.write;
      exit.mockRestore();
      said.mockRestore();
    }
  });
});

describe("train stopped by a signal", () => {
  it("checkpoints at the step it stopped after, exits 143 (SIGTERM) or 130 (SIGINT), and resumes to the bytes of an uninterrupted run", async () => {
    uninterrupted();
    let seed = 11;
    const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let trial = 0; trial < 6; trial++) {
      const dir = join(root, `stopped-${trial}`);
      const signal = trial === 5 ? "SIGINT" : "SIGTERM";
      let args = [...ARGS, "--out", dir];
      // stopped twice in some trials: the resumed run too
      for (let stop = 0; stop < (trial % 2 === 0 ? 2 : 1); stop++) {
        const delay = 100 + rand() * 900;
        const { done } = start(args, (line, child) => {
          if (line.startsWith("data: ")) setTimeout(() => child.kill(signal), delay);
        });
        const r = await done;
        counted.signals++;
        // finished before the signal (or the signal came as the finished process was closing, the run complete)
        if (r.code === 0 || (r.code === null && r.stdout.includes("done: "))) break; // the run is complete: nothing to stop again
        expect(r.code, r.stderr).toBe(signal === "SIGINT" ? 130 : 143);
        expect(r.stderr).toContain(`${signal} received: stopping after the current step`);
        if (!existsSync(join(dir, "checkpoint.bin"))) {
          expect(r.stdout).toContain("before the first checkpoint");
          continue; // the same command again
        }
        const { meta } = loadCheckpoint<CheckpointMeta>(join(dir, "checkpoint.bin"));
        if (meta.partial) {
          counted.midEpoch++;
          expect(r.stdout).toContain(
            `stopped (${signal} received) in epoch ${meta.partial.epoch} after step ${meta.partial.batch}`,
          );
          expect(meta.partial.batch).toBeGreaterThan(0);
          expect(meta.partial.batch).toBeLessThanOrEqual(20);
        }
        expect(r.stdout).toContain(`resume with: binaryconnect train --resume ${dir}`);
        expect(existsSync(join(dir, "train.lock"))).toBe(false);
        args = ["train", "--resume", dir, "--backend", "wasm", "--threads", "1"];
      }
      const last = existsSync(join(dir, "checkpoint.bin"))
        ? cli(["train", "--resume", dir, "--backend", "wasm", "--threads", "1"])
        : cli([...ARGS, "--out", dir]);
      expect(last.status, last.stderr).toBe(0);
      expectSameAsReference(dir, `trial ${trial}`);
    }
    expect(counted.midEpoch).toBeGreaterThanOrEqual(3);
  }, 180_000);

  it("a second training in the folder is an error naming the process; the lock goes with the first", async () => {
    const dir = join(root, "locked");
    let pid = 0;
    const first = start([...ARGS, "--epochs", "3", "--out", dir], (line, child) => {
      if (!line.startsWith("epoch 1/")) return;
      pid = child.pid!;
      const again = cli([...ARGS, "--out", dir]);
      const resume = cli(["train", "--resume", dir]);
      child.kill("SIGTERM");
      for (const r of [again, resume])
        expectCleanError(
          r,
          new RegExp(`${dir.replace(/[/\\]/g, ".")} is in use: process ${pid} has been training in it since`),
        );
    });
    const r = await first.done;
    expect(pid).toBeGreaterThan(0);
    expect(r.code, r.stderr).toBe(143);
    expect(existsSync(join(dir, "train.lock"))).toBe(false);
  }, 60_000);
});

describe("train killed at a file operation", () => {
  it("SIGKILL at operations spread over a run: each resumes to the bytes of an uninterrupted run", async () => {
    uninterrupted();
    for (const n of [1, 4, 9, 13, 17, 20, 24, 29, 33, 37]) {
      const dir = join(root, `killed-${n}`);
      const r = cli([...ARGS, "--out", dir], { BINARYCONNECT_TEST_FAULT: `${n}:KILL` });
      counted.kills++;
      if (r.status === 0) continue; // fewer operations than n
      expect(r.status, `kill at ${n}: ${r.stderr}`).toBeNull();
      const leftLock = existsSync(join(dir, "train.lock"));
      const again = existsSync(join(dir, "checkpoint.bin"))
        ? cli(["train", "--resume", dir, "--backend", "wasm", "--threads", "1"])
        : cli([...ARGS, "--out", dir]);
      expect(again.status, `after a kill at ${n}: ${again.stderr}`).toBe(0);
      if (leftLock)
        expect(again.stderr).toMatch(
          /^note: .* was locked by process \d+ .*which no longer runs; taking the run over$/m,
        );
      expectSameAsReference(dir, `killed at operation ${n}`);
    }
  }, 180_000);
});

describe("I/O errors and damaged files: one error line with a hint, no stack trace", () => {
  it("disk full while writing a checkpoint: the path, the cause, the hint; the run resumes", () => {
    const dir = join(root, "enospc");
    const r = cli([...ARGS, "--out", dir], { BINARYCONNECT_TEST_FAULT: "write:checkpoint.bin@2:ENOSPC" });
    counted.ioErrors++;
    expectCleanError(
      r,
      new RegExp(
        `error: cannot write ${dir}/checkpoint.bin: no space left on the device \\(ENOSPC\\)\\n  hint: free some space`,
      ),
    );
    expect(readdirSync(dir).filter((f) => f.includes(".tmp-") || f === "train.lock")).toEqual([]);
    expect(loadCheckpoint<CheckpointMeta>(join(dir, "checkpoint.bin")).meta.epochsDone).toBe(1);
    const resumed = cli(["train", "--resume", dir, "--backend", "wasm", "--threads", "1"]);
    expect(resumed.status, resumed.stderr).toBe(0);
    expectSameAsReference(dir, "after ENOSPC");
  }, 60_000);

  it("train --out naming a file, a device, a path through a file; a read-only or forbidden folder", () => {
    const file = join(root, "a-file");
    writeFileSync(file, "x");
    for (const [out, pattern] of [
      [file, /cannot create the folder .*a-file: it exists and is not a folder \(EEXIST\)/],
      [devNull, new RegExp(`cannot create the folder ${devNull}: it exists and is not a folder \\(EEXIST\\)`)],
      [
        join(file, "run"),
        /cannot create the folder .*a-file\/run: a part of the path is a file, not a folder \(ENOTDIR\)/,
      ],
    ] as const) {
      expectCleanError(cli([...ARGS, "--out", out]), pattern);
      counted.ioErrors++;
    }
    for (const [fault, pattern] of [
      [
        "mkdir@1:EROFS",
        /cannot create the folder .*: the file system is read-only \(EROFS\)\n {2}hint: choose a folder on a writable disk/,
      ],
      ["lock@1:EACCES", /cannot create the lock .*train\.lock: permission denied \(EACCES\)\n {2}hint: /],
      ["open@1:EACCES", /cannot write .*config\.json: permission denied \(EACCES\)/],
    ] as const) {
      expectCleanError(
        cli([...ARGS, "--out", join(root, `ro-${fault.split("@")[0]}`)], { BINARYCONNECT_TEST_FAULT: fault }),
        pattern,
      );
      counted.ioErrors++;
    }
  }, 60_000);

  it("export to a missing folder, a folder, a device, a read-only disk; eval of a checkpoint that is a folder", () => {
    const { dir } = uninterrupted();
    for (const [args, env, pattern] of [
      [
        ["--out", join(root, "missing", "m.bcnet")],
        {},
        /cannot write .*missing\/m\.bcnet: no such file or folder \(ENOENT\)\n {2}hint: /,
      ],
      [["--out", root], {}, /cannot write .*: it is a folder, not a file\n {2}hint: name a file inside it/],
      [["--out", devNull], {}, new RegExp(`cannot write ${devNull}: it is not a regular file`)],
      [
        ["--format", "onnx", "--out", join(root, "m.onnx")],
        { BINARYCONNECT_TEST_FAULT: "open@1:EROFS" },
        /cannot write .*m\.onnx: the file system is read-only \(EROFS\)/,
      ],
      [
        ["--out", join(root, "m.bcnet")],
        { BINARYCONNECT_TEST_FAULT: "write@1:ENOSPC" },
        /cannot write .*m\.bcnet: no space left on the device \(ENOSPC\)/,
      ],
    ] as const) {
      expectCleanError(cli(["export", dir, ...args], env), pattern);
      counted.ioErrors++;
    }
    expect(readdirSync(root).filter((f) => f.includes(".tmp-"))).toEqual([]);
    const folderCkpt = join(root, "folder-ckpt");
    mkdirSync(join(folderCkpt, "checkpoint.bin"), { recursive: true });
    expectCleanError(
      cli(["eval", folderCkpt, "--which", "last", "--backend", "wasm", "--threads", "1"]),
      /cannot read the checkpoint .*checkpoint\.bin: it is a folder, not a file \(EISDIR\)/,
    );
    counted.ioErrors++;
  }, 60_000);

  it("a checkpoint with a flipped header-length byte: eval, export and --resume say it is damaged", () => {
    const { dir } = uninterrupted();
    for (const at of [12, 13]) {
      const bad = join(root, `flipped-${at}`);
      cpSync(dir, bad, { recursive: true });
      const bytes = readFileSync(join(bad, "checkpoint.bin"));
      bytes[at] ^= 1;
      writeFileSync(join(bad, "checkpoint.bin"), bytes);
      for (const args of [
        ["eval", bad, "--which", "last", "--backend", "wasm", "--threads", "1"],
        ["export", bad, "--which", "last"],
        ["train", "--resume", bad],
      ]) {
        expectCleanError(
          cli(args),
          /checkpoint\.bin: checksum mismatch .*the file is corrupt or truncated\n {2}hint: /,
        );
        counted.damaged++;
      }
    }
  }, 60_000);

  it("a run of the previous version with a torn last metrics line resumes", () => {
    const { dir } = uninterrupted();
    const old = join(root, "torn");
    cpSync(dir, old, { recursive: true });
    // epoch 1's checkpoint as version 1 wrote it (no records), and a metrics.jsonl whose epoch-2 line was cut short by a kill
    const killed = join(root, "killed-after-1");
    const r = cli([...ARGS, "--out", killed], { BINARYCONNECT_TEST_FAULT: "write:checkpoint.bin@2:KILL" });
    expect(r.status).toBeNull();
    const ckpt = loadCheckpoint<CheckpointMeta>(join(killed, "checkpoint.bin"));
    const { records: _r, ...meta } = ckpt.meta;
    const v2 = encodeCheckpoint({ meta, tensors: ckpt.tensors }, crc32);
    const v1 = new Uint8Array(v2.length);
    v1.set(v2);
    new DataView(v1.buffer).setUint32(8, 1, true);
    new DataView(v1.buffer).setUint32(16, crc32(v1.subarray(20)), true);
    writeFileSync(join(old, "checkpoint.bin"), v1);
    const lines = readFileSync(join(dir, "metrics.jsonl"), "utf8").split("\n");
    writeFileSync(join(old, "metrics.jsonl"), `${lines[0]}\n${lines[1].slice(0, 40)}`);
    const resumed = cli(["train", "--resume", old, "--backend", "wasm", "--threads", "1"]);
    expect(resumed.status, resumed.stderr).toBe(0);
    counted.damaged++;
    expectSameAsReference(old, "a torn metrics line");
  }, 60_000);
});

describe("divergence", () => {
  it("a NaN validation loss stops train before its epoch is saved; eval and export refuse non-finite weights", () => {
    const dir = join(root, "diverged");
    const r = cli([
      ...words(
        "train --backend wasm --threads 1 --train-size 2000 --val-size 500 --test-size 500 --epochs 4 --lr-start 1e-3 --lr-end 1e38 --out",
      ),
      dir,
    ]);
    expectCleanError(
      r,
      /error: validation loss became NaN in epoch 3 .*\n {2}hint: the run's last checkpoint \(after epoch 2\) is kept: nothing of epoch 3 was saved/,
    );
    const { meta, tensors } = loadCheckpoint<CheckpointMeta>(join(dir, "checkpoint.bin"));
    expect(meta.epochsDone).toBe(2);
    expect(firstNonFinite(tensors)).toBeNull();
    expect(metricsOf(dir).map((m) => m.epoch)).toEqual([1, 2]);
    expect(metricsOf(dir).every((m) => m.val_loss !== null)).toBe(true);

    // a checkpoint whose weights are not finite (as one written before this check)
    const bad = join(root, "nan-weights");
    cpSync(dir, bad, { recursive: true });
    const w = tensors.find((t) => t.name === "dense1.W")!;
    w.data[17] = Number.NaN;
    writeFileSync(join(bad, "checkpoint.bin"), encodeCheckpoint({ meta, tensors }, crc32));
    expectCleanError(
      cli(["eval", bad, "--which", "last", "--backend", "wasm", "--threads", "1"]),
      /checkpoint\.bin holds weights that are not finite: tensor dense1\.W holds a non-finite value \(NaN at index 17\)\n {2}hint: /,
    );
    expectCleanError(
      cli(["export", bad, "--which", "last", "--format", "onnx"]),
      /checkpoint\.bin holds weights that are not finite: tensor dense1\.W holds a non-finite value/,
    );
    expectCleanError(cli(["export", bad, "--which", "last"]), /holds weights that are not finite/);
    expect(existsSync(join(bad, "model.onnx"))).toBe(false);
    // the best epoch is fine
    expect(cli(["eval", bad, "--backend", "wasm", "--threads", "1"]).status).toBe(0);
  }, 60_000);
});

describe("reproduce stopped", () => {
  const args = (out: string, epochs = 3, train = 2000) => [
    "reproduce",
    "mnist",
    "--out",
    out,
    "--backend",
    "wasm",
    "--epochs",
    String(epochs),
    ...words("--methods det --seeds 2 --parallel 2 --threads 1 --train-size"),
    String(train),
    ...words("--val-size 200 --test-size 200"),
  ];
  const pidsOf = (stdout: string) => [...stdout.matchAll(/; process (\d+)\)/g)].map((m) => Number(m[1]));
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  async function waitDead(pids: number[], ms: number): Promise<boolean> {
    for (const started = Date.now(); Date.now() - started < ms; await new Promise((r) => setTimeout(r, 100)))
      if (!pids.some(alive)) return true;
    return false;
  }
  function finishAndCheck(out: string): void {
    const again = cli(args(out));
    expect(again.status, again.stderr).toBe(0);
    for (const seed of [1, 2]) {
      const dir = join(out, "runs", `det-seed${seed}`);
      expect(metricsOf(dir).map((m) => m.epoch)).toEqual([1, 2, 3]);
      expect(loadCheckpoint<CheckpointMeta>(join(dir, "checkpoint.bin")).meta.epochsDone).toBe(3);
      expect(existsSync(join(dir, "train.lock"))).toBe(false);
    }
  }

  it("SIGTERM to reproduce: its trainings checkpoint and exit, it exits 143; the same command finishes them", async () => {
    const out = join(root, "reproduce-term");
    let seen = 0;
    const run = start(args(out), (line, child) => {
      if (/: epoch 1\/3/.test(line) && ++seen === 1) child.kill("SIGTERM");
    });
    const r = await run.done;
    counted.signals++;
    expect(r.code, r.stderr + r.stdout).toBe(143);
    const pids = pidsOf(r.stdout);
    expect(pids).toHaveLength(2);
    expect(await waitDead(pids, 1000)).toBe(true);
    expect(r.stdout).toMatch(
      /stopped \(SIGTERM\): det-seed\d(, det-seed\d)? checkpointed; run the same command again to continue/,
    );
    finishAndCheck(out);
  }, 120_000);

  it("SIGKILL to reproduce: its trainings notice, checkpoint and exit long before their end; the same command finishes them", async () => {
    const out = join(root, "reproduce-kill");
    // 16 epochs of about 0.6 s each: ten seconds to go when reproduce is killed
    const long = args(out, 16, 1000);
    let seen = 0,
      killedAt = 0;
    const run = start(long, (line, child) => {
      if (/: epoch +2\/16/.test(line) && ++seen === 1) {
        killedAt = Date.now();
        child.kill("SIGKILL");
      }
    });
    const r = await run.done;
    counted.signals++;
    expect(r.signal, r.stdout + r.stderr).toBe("SIGKILL");
    const pids = pidsOf(r.stdout);
    expect(pids).toHaveLength(2);
    expect(await waitDead(pids, 5000)).toBe(true);
    expect(Date.now() - killedAt).toBeLessThan(5000);
    for (const seed of [1, 2]) {
      const dir = join(out, "runs", `det-seed${seed}`);
      expect(existsSync(join(dir, "train.lock")), dir).toBe(false);
      const { meta } = loadCheckpoint<CheckpointMeta>(join(dir, "checkpoint.bin"));
      expect(meta.epochsDone).toBeLessThan(10);
      expect(metricsOf(dir).map((m) => m.epoch)).toEqual(meta.records!.map((m) => m.epoch));
    }
    const again = cli(long);
    expect(again.status, again.stderr).toBe(0);
    for (const seed of [1, 2])
      expect(metricsOf(join(out, "runs", `det-seed${seed}`)).map((m) => m.epoch)).toEqual(
        Array.from({ length: 16 }, (_, i) => i + 1),
      );
  }, 120_000);
});

describe("nonsense is refused before any work, with what was expected", () => {
  it("an empty --out, a seed past 32 bits, a word for a mode: clear errors, nothing trained", () => {
    const empty = cli([...ARGS, "--out", ""]);
    expectCleanError(empty, /--out <dir>.*expected a path, found an empty string/);
    expect(empty.stdout).not.toMatch(/epoch/);
    const sweep = cli(["reproduce", "mnist", "--out", ""]);
    expectCleanError(sweep, /--out <dir>.*expected a path, found an empty string/);
    expect(sweep.stdout).not.toMatch(/starting/);
    const seed = cli([...ARGS, "--seed", "99999999999999", "--out", join(root, "big-seed")]);
    expectCleanError(seed, /expected an integer from 0 to 4294967295, found "99999999999999"/);
    expect(existsSync(join(root, "big-seed"))).toBe(false);
    expectCleanError(cli(["train", "--mode", "binary"]), /did you mean "det"\?/);
    expectCleanError(cli(["train", "--mode", "stochastic"]), /did you mean "stoch"\?/);
  });

  it("a training set smaller than one batch is an error, and leaves no run folder behind", () => {
    const out = join(root, "tiny-set");
    const r = cli(["train", ...SMALL.filter((_, i) => i < 4), "--train-size", "100", "--epochs", "1", "--out", out]);
    expectCleanError(
      r,
      /--train-size 100 is smaller than the batch of 200 \(preset mnist-quick's\): no step could be taken[\s\S]*give --batch-size 10/,
    );
    expect(existsSync(out)).toBe(false);
    // a batch given is checked the same way; the split's size after the limit is fit's to check
    expectCleanError(
      cli(["train", ...SMALL.filter((_, i) => i < 4), ...words("--train-size 100 --batch-size 150 --out"), out]),
      /--train-size 100 is smaller than the batch of 150: no step could be taken/,
    );
  });

  it("export infers the format from --out's extension; a contradicting --format is refused", () => {
    const dir = join(root, "export-format");
    expect(cli([...ARGS, "--epochs", "1", "--out", dir]).status).toBe(0);
    const onnx = cli(["export", dir, "--out", join(dir, "m.onnx")]);
    expect(onnx.stdout, onnx.stderr).toMatch(/ONNX \(opset 13\)/);
    expect(readFileSync(join(dir, "m.onnx")).subarray(0, 8).toString("latin1")).not.toMatch(/^BCNET/);
    expectCleanError(
      cli(["export", dir, "--format", "bcnet", "--out", join(dir, "x.onnx")]),
      /--format bcnet would write a .bcnet file named .*x\.onnx/,
    );
    expect(existsSync(join(dir, "x.onnx"))).toBe(false);
    expect(cli(["export", dir, "--out", join(dir, "m.bcnet")]).stdout).toMatch(/wrote .*m\.bcnet: /);
  });

  it("--backend auto on a machine without a usable GPU driver prints nothing from the drivers (unless --verbose)", () => {
    const env: Record<string, string> = { VK_ICD_FILENAMES: join(root, "no-such-driver.json") };
    const { XDG_RUNTIME_DIR: _x, ...rest } = process.env;
    const run = (extra: string[]) =>
      spawnSync(process.execPath, [CLI, "train", ...SMALL.slice(2), "--epochs", "1", "--batch-size", "100", ...extra], {
        encoding: "utf8",
        env: { ...rest, ...env } as NodeJS.ProcessEnv,
      });
    const quiet = run(["--out", join(root, "quiet")]);
    expect(quiet.status, quiet.stderr).toBe(0);
    expect(quiet.stdout).toMatch(/auto: no WebGPU GPU/);
    expect(quiet.stderr).toBe("");
    const verbose = run(["--out", join(root, "verbose"), "--verbose"]);
    expect(verbose.status, verbose.stderr).toBe(0);
    expect(verbose.stderr).toMatch(/Warning/);
  });
});
