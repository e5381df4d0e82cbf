/**
 * Faults injected into a run folder's file operations (src/train/fsio.ts's test hook), in
 * process, through the library's fit({ checkpointDir }): a kill or an I/O error at every
 * operation of a short run, then a resume, gives the final checkpoint (and best.bin) of an
 * uninterrupted run byte for byte, metrics.jsonl with each epoch once (timings included), no
 * temporary files and no lock. Also: aborts part way through an epoch, divergence, the lock,
 * stale temporary files, and runs of the previous version with a torn metrics line.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import * as bc from "../src/index.js";
import { loadCheckpoint } from "../src/train/checkpoint.js";
import { firstNonFinite } from "../src/train/finite.js";
import {
  faultError,
  RunInUseError,
  setFaultInjector,
  SimulatedKill,
  StorageError,
  type FileOp,
} from "../src/train/fsio.js";
import type { CheckpointMeta, EpochRecord } from "../src/train/trainer.js";
import { smallMlp, toySet } from "./toy-model.js";
import { withoutTimings, metricsOf, words } from "./cli-helpers.js";

const tmp = () => mkdtempSync(join(tmpdir(), "bc-faults-"));

const DATA = toySet(400);
const TEST = toySet(100, 16, 4);
/** 300 training examples in batches of 50: 6 steps an epoch, 3 epochs. */
const OPTS = { epochs: 3, batchSize: 50, validation: 0.25, test: TEST } as const;
const BATCHES = 6;

async function fitIn(dir: string, extra: bc.FitOptions = {}): Promise<bc.History> {
  const model = smallMlp();
  try {
    return await model.fit(DATA, { ...OPTS, checkpointDir: dir, ...extra });
  } finally {
    await model.dispose();
  }
}

/** Everything a finished folder must show: the reference run's bytes, each epoch once with its timings, nothing left over. */
function expectSameAsReference(dir: string, what: string): void {
  expect(readFileSync(join(dir, "checkpoint.bin")).equals(reference.checkpoint), `${what}: checkpoint.bin`).toBe(true);
  expect(readFileSync(join(dir, "best.bin")).equals(reference.best), `${what}: best.bin`).toBe(true);
  const metrics = metricsOf(dir);
  expect(metrics.map(withoutTimings), `${what}: metrics.jsonl`).toEqual(reference.metrics);
  for (const r of metrics)
    expect(typeof r.seconds === "number" && r.seconds > 0, `${what}: epoch ${r.epoch}'s seconds (${r.seconds})`).toBe(
      true,
    );
  expect(readdirSync(dir).sort(), `${what}: files`).toEqual([
    ...words("best.bin checkpoint.bin config.json metrics.jsonl"),
  ]);
}

let reference: {
  dir: string;
  checkpoint: Buffer;
  best: Buffer;
  metrics: ReturnType<typeof withoutTimings>[];
  ops: { op: FileOp; path: string }[];
};
/** What the tests injected, for docs/RESULTS.md (printed at the end). */
const injected = { kills: 0, errors: 0, aborts: 0, resumesAfterFault: 0 };
const notes: string[] = [];

/** The process "dies" at operation n: it and every later one throw SimulatedKill, so nothing is cleaned up. */
function killAt(n: number): void {
  let i = 0,
    dead = false;
  setFaultInjector((op, path) => {
    if (dead || ++i === n) {
      dead = true;
      throw new SimulatedKill(op, path);
    }
  });
}

/** Operation n fails with errno `code` (the others work). */
function failAt(n: number, code: string): void {
  let i = 0;
  setFaultInjector((op, path) => {
    if (++i === n) throw faultError(code, op, path);
  });
}

beforeAll(async () => {
  vi.spyOn(console, "warn").mockImplementation((line: string) => void notes.push(line));
  const dir = tmp();
  const ops: { op: FileOp; path: string }[] = [];
  setFaultInjector((op, path) => void ops.push({ op, path }));
  const history = await fitIn(dir);
  setFaultInjector(undefined);
  reference = {
    dir,
    checkpoint: readFileSync(join(dir, "checkpoint.bin")),
    best: readFileSync(join(dir, "best.bin")),
    metrics: history.epochs.map(withoutTimings),
    ops,
  };
});

afterEach(() => setFaultInjector(undefined));

afterAll(() => {
  vi.restoreAllMocks();
  console.log(
    `run-folder faults: ${reference.ops.length} file operations in a 3-epoch run; injected ${injected.kills} kills, ${injected.errors} I/O errors, ` +
      `${injected.aborts} aborts part way through an epoch; ${injected.resumesAfterFault} resumes, all to the uninterrupted run's bytes`,
  );
});

describe("a run killed at any file operation", () => {
  it("resumes to the same final checkpoint, with each epoch once, for every operation it is killed at", async () => {
    const counts = new Map<FileOp, number>();
    for (const { op } of reference.ops) counts.set(op, (counts.get(op) ?? 0) + 1);
    expect(reference.ops.length).toBeGreaterThan(40);
    for (const op of ["lock", "mkdir", "open", "write", "fsync", "rename", "readdir", "unlink"] as const)
      expect(counts.get(op), op).toBeGreaterThan(0);
    for (let n = 1; n <= reference.ops.length; n++) {
      const dir = tmp();
      killAt(n);
      const outcome = await fitIn(dir).then(
        () => "finished",
        (e: unknown) => e,
      );
      // the last operation releases the lock: a kill there leaves a finished run with its lock file
      if (outcome !== "finished") expect(outcome, `kill at ${n}`).toBeInstanceOf(SimulatedKill);
      injected.kills++;
      setFaultInjector(undefined);
      await fitIn(dir);
      injected.resumesAfterFault++;
      expectSameAsReference(
        dir,
        `killed at operation ${n} (${reference.ops[n - 1].op} ${reference.ops[n - 1].path.split("/").pop()})`,
      );
    }
    // a lock left by a kill is taken over with a note
    expect(
      notes.some((l) => /^note: .* was locked by process \d+ .*which no longer runs; taking the run over/.test(l)),
    ).toBe(true);
  }, 240_000);

  it("resumes after kills during its resumes too", async () => {
    const T = reference.ops.length;
    let seed = 7;
    const rand = (n: number) => 1 + ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
    for (let trial = 0; trial < 12; trial++) {
      const dir = tmp();
      for (let k = 0; k < 3; k++) {
        killAt(rand(k === 0 ? T : Math.ceil(T / 2)));
        await fitIn(dir).catch((e: unknown) => expect(e).toBeInstanceOf(SimulatedKill));
        injected.kills++;
      }
      setFaultInjector(undefined);
      await fitIn(dir);
      injected.resumesAfterFault++;
      expectSameAsReference(dir, `trial ${trial}`);
    }
  }, 120_000);
});

describe("a run whose file operation fails", () => {
  const CODES = ["ENOSPC", "EACCES", "EROFS", "EIO", "ENOTDIR", "EISDIR", "ENOENT", "EDQUOT"];

  it("stops with a typed error naming the path and the cause, and resumes to the same final checkpoint, for every operation", async () => {
    for (let n = 1; n <= reference.ops.length; n++) {
      const dir = tmp();
      const code = CODES[n % CODES.length];
      failAt(n, code);
      const outcome = await fitIn(dir).then(
        () => "finished",
        (e: unknown) => e,
      );
      injected.errors++;
      if (outcome !== "finished") {
        // the error names the file it was writing (or the folder), the code and a hint
        expect(outcome, `${code} at ${n}`).toBeInstanceOf(StorageError);
        const e = outcome as StorageError;
        expect(e).toBeInstanceOf(bc.BinaryConnectError);
        expect(e.code).toBe(code);
        expect(e.message).toContain(`(${code})`);
        expect(e.path.startsWith(dir)).toBe(true);
        expect(e.message).toContain(e.path);
        expect(e.message).toMatch(/\n {2}hint: /);
        if (code === "ENOSPC")
          expect(e.message).toMatch(/no space left on the device[\s\S]*the file it replaces is intact/);
        // a failed write leaves no temporary file behind, but for new metrics that could not be renamed after their
        // checkpoint was: they hold the epoch's timings, which the next run takes before it removes them
        const { op, path } = reference.ops[n - 1];
        const afterCheckpoint = reference.ops
          .slice(0, n - 1)
          .filter((o) => o.op === "rename")
          .at(-1)
          ?.path.endsWith("checkpoint.bin");
        const left =
          op === "rename" && path.endsWith("metrics.jsonl") && afterCheckpoint
            ? [`metrics.jsonl.tmp-${process.pid}`]
            : [];
        expect(
          readdirSync(dir).filter((f) => f.includes(".tmp-")),
          `${code} at ${n}`,
        ).toEqual(left);
      } else {
        // only removals (the lock when the run ends, a temporary file: the next run removes what is left) and the fsync
        // of a folder after a rename (which some platforms cannot do) may fail without failing the run
        const { op, path } = reference.ops[n - 1];
        expect(op === "unlink" || (op === "fsync" && path === reference.dir), `${op} ${path}`).toBe(true);
      }
      setFaultInjector(undefined);
      await fitIn(dir);
      injected.resumesAfterFault++;
      expectSameAsReference(dir, `${code} at operation ${n}`);
    }
  }, 240_000);
});

describe("an aborted fit with a checkpointDir", () => {
  it("checkpoints the epoch so far and continues at the next step, to the uninterrupted run's bytes", async () => {
    // step 6 = the last of epoch 1: the abort is seen in the validation, after every step of the epoch
    for (const at of [1, 4, 6, 7, 11, 12, 13, 17]) {
      const dir = tmp();
      const controller = new AbortController();
      let steps = 0;
      const reason = new Error(`stop at ${at}`);
      await expect(
        fitIn(dir, {
          signal: controller.signal,
          callbacks: { onBatchEnd: () => void (++steps === at && controller.abort(reason)) },
        }),
      ).rejects.toBe(reason);
      injected.aborts++;
      const { meta } = loadCheckpoint<CheckpointMeta>(join(dir, "checkpoint.bin"));
      const epoch = Math.ceil(at / BATCHES);
      expect(meta.epochsDone).toBe(epoch - 1);
      expect(meta.partial).toMatchObject({ epoch, batch: at - (epoch - 1) * BATCHES });
      expect(meta.records?.map((r) => r.epoch)).toEqual(Array.from({ length: epoch - 1 }, (_, i) => i + 1));
      expect(metricsOf(dir).map(withoutTimings)).toEqual(reference.metrics.slice(0, epoch - 1));
      // twice: an abort of the resumed epoch too
      const again = new AbortController();
      let more = 0;
      await expect(
        fitIn(dir, {
          signal: again.signal,
          callbacks: { onBatchEnd: () => void (++more === 1 && again.abort(reason)) },
        }),
      ).rejects.toBe(reason);
      injected.aborts++;
      const history = await fitIn(dir);
      injected.resumesAfterFault++;
      expect(history.epochs.map(withoutTimings)).toEqual(reference.metrics);
      expectSameAsReference(dir, `aborted at step ${at}`);
    }
  }, 120_000);

  it("without a checkpointDir, rejects with the reason and writes nothing", async () => {
    const controller = new AbortController();
    const model = smallMlp();
    await expect(
      model.fit(DATA, {
        ...OPTS,
        signal: controller.signal,
        callbacks: { onBatchEnd: (b) => void (b === 3 && controller.abort(new Error("stop"))) },
      }),
    ).rejects.toThrow("stop");
    await model.dispose();
  });
});

describe("divergence", () => {
  it("a NaN validation loss stops the run before its epoch is saved; the kept checkpoint is finite and the error says which it is", async () => {
    const dir = tmp();
    const model = smallMlp();
    const err = await model.fit(DATA, { ...OPTS, epochs: 4, lr: { start: 1e-3, end: 1e38 }, checkpointDir: dir }).then(
      () => null,
      (e: unknown) => e,
    );
    await model.dispose();
    expect(err).toBeInstanceOf(bc.NumericalError);
    const message = (err as Error).message;
    const m = /(training|validation) loss became (NaN|-?Infinity) in epoch (\d+)/.exec(message);
    expect(m, message).not.toBeNull();
    const diverged = Number(m![3]);
    const { meta, tensors } = loadCheckpoint<CheckpointMeta>(join(dir, "checkpoint.bin"));
    expect(meta.epochsDone).toBe(diverged - 1);
    expect(message).toContain(
      `the run's last checkpoint (after epoch ${diverged - 1}) is kept: nothing of epoch ${diverged} was saved`,
    );
    expect(firstNonFinite(tensors)).toBeNull();
    expect(firstNonFinite(loadCheckpoint<CheckpointMeta>(join(dir, "best.bin")).tensors)).toBeNull();
    expect(metricsOf(dir).map((r) => r.epoch)).toEqual(Array.from({ length: diverged - 1 }, (_, i) => i + 1));
  });

  it("a parameter that is not finite is refused by the saver: best.bin and checkpoint.bin keep the previous epoch", async () => {
    const dir = tmp();
    const model = smallMlp();
    const net = await model.engineNetwork();
    let steps = 0;
    const err = await model
      .fit(DATA, {
        ...OPTS,
        checkpointDir: dir,
        callbacks: {
          // after the last step of epoch 2: Adam's second moment of one weight becomes infinite (the losses stay finite)
          onBatchEnd: () => {
            if (++steps !== 2 * BATCHES) return;
            const p = net.params()[0];
            const v = new Float32Array(p.value.size);
            v[5] = Infinity;
            net.backend.upload(p.v, v);
          },
        },
      })
      .then(
        () => null,
        (e: unknown) => e,
      );
    await model.dispose();
    expect(err).toBeInstanceOf(bc.NumericalError);
    expect((err as Error).message).toMatch(
      /the parameters became non-finite in epoch 2: tensor dense0\.W#v holds a non-finite value \(Infinity at index 5\)[\s\S]*hint: the run's last checkpoint \(after epoch 1\) is kept: nothing of epoch 2 was saved/,
    );
    expect(loadCheckpoint<CheckpointMeta>(join(dir, "checkpoint.bin")).meta.epochsDone).toBe(1);
    expect(metricsOf(dir).map((r) => r.epoch)).toEqual([1]);
  });
});

describe("the run folder's lock", () => {
  it("a second training in a folder is an error naming the process; a lock of a dead process, or of an earlier attempt of the same Slurm task on a failed node, is taken over with a note", async () => {
    const dir = tmp();
    // this process, twice at once
    let inner: unknown;
    await fitIn(dir, {
      epochs: 1,
      callbacks: { onEpochBegin: async () => void (inner ??= await fitIn(dir).catch((e: unknown) => e)) },
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(inner).toBeInstanceOf(RunInUseError);
    expect((inner as Error).message).toMatch(/is in use: this process is already training in it/);
    expect(existsSync(join(dir, "train.lock"))).toBe(false);

    // another live process (this one's parent, started before the lock was written) holds it
    const started = new Date().toISOString();
    writeFileSync(
      join(dir, "train.lock"),
      JSON.stringify({ pid: process.ppid, host: (await import("node:os")).hostname(), started }),
    );
    const e = await fitIn(dir).then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(RunInUseError);
    expect((e as RunInUseError).pid).toBe(process.ppid);
    expect((e as Error).message).toContain(`process ${process.ppid} has been training in it since ${started}`);
    expect((e as Error).message).toMatch(/hint: .*kill \d+.*delete .*train\.lock/);

    // a process that no longer runs
    writeFileSync(
      join(dir, "train.lock"),
      JSON.stringify({
        pid: 2 ** 22 + 12345,
        host: (await import("node:os")).hostname(),
        started: "2025-01-01T00:00:00.000Z",
      }),
    );
    notes.length = 0;
    await fitIn(dir, { epochs: 2 });
    expect(notes).toEqual([
      expect.stringMatching(
        new RegExp(`^note: .* was locked by process ${2 ** 22 + 12345} .*which no longer runs; taking the run over$`),
      ),
    ]);
    expect(existsSync(join(dir, "train.lock"))).toBe(false);

    // another node's lock: live, unless it was taken by an earlier attempt of this same Slurm task
    const otherNode = (slurmTask: string) =>
      writeFileSync(
        join(dir, "train.lock"),
        JSON.stringify({ pid: 77, host: "node-that-failed", started: "2025-01-01T00:00:00.000Z", slurmTask }),
      );
    const saved = { ...process.env };
    try {
      Object.assign(process.env, { SLURM_ARRAY_JOB_ID: "4242", SLURM_ARRAY_TASK_ID: "3" });
      otherNode("4242_2");
      await expect(fitIn(dir, { epochs: 2 })).rejects.toBeInstanceOf(RunInUseError);
      otherNode("4242_3");
      notes.length = 0;
      await fitIn(dir, { epochs: 3 });
      expect(notes).toEqual([
        expect.stringMatching(/^note: .* was locked by process 77 on node-that-failed .*taking the run over$/),
      ]);
      expect(existsSync(join(dir, "train.lock"))).toBe(false);
    } finally {
      for (const key of ["SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID"]) if (!(key in saved)) delete process.env[key];
    }
  });

  it("temporary files of dead processes are removed when a run resumes; a live process's are left", async () => {
    const dir = tmp();
    await fitIn(dir, { epochs: 1 });
    writeFileSync(join(dir, `checkpoint.bin.tmp-${2 ** 22 + 999}`), "half a checkpoint");
    writeFileSync(join(dir, `model.onnx.tmp-${process.ppid}`), "an export under way");
    await fitIn(dir, { epochs: 2 });
    expect(readdirSync(dir).filter((f) => f.includes(".tmp-"))).toEqual([`model.onnx.tmp-${process.ppid}`]);
  });
});

describe("runs of the previous version", () => {
  it("a format-1 checkpoint without records resumes with its records from metrics.jsonl, a torn last line left out", async () => {
    const fixture = join(import.meta.dirname, "fixtures", "v0.1-runs", "mlp-det");
    const expected = JSON.parse(readFileSync(join(fixture, "metrics.json"), "utf8")) as EpochRecord[];
    const dir = tmp();
    cpSync(join(fixture, "checkpoint.bin"), join(dir, "checkpoint.bin"));
    const lines = expected.slice(0, 2).map((r) => JSON.stringify({ ...r, seconds: 1, examples_per_second: 2 }));
    writeFileSync(join(dir, "metrics.jsonl"), `${lines.join("\n")}\n${lines[1].slice(0, 30)}`);
    const { RunFolder } = await import("../src/train/runFolder.js");
    const folder = new RunFolder(dir);
    folder.open();
    try {
      const history = folder.resume(folder.readCheckpoint());
      expect(history.map(withoutTimings)).toEqual(expected.slice(0, 2));
      expect(readFileSync(join(dir, "metrics.jsonl"), "utf8")).toBe(lines.map((l) => `${l}\n`).join(""));
    } finally {
      folder.close();
    }
  });
});
