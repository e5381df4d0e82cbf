/**
 * What later commands make of a run folder after a fault: a lock left with a process number
 * that was reused, a config.json or best.bin lost or damaged, a checkpoint taken part way through
 * an epoch (what eval and export say it holds), a metrics.jsonl with a record that is not one,
 * and figures written where they cannot be. Each is recovered or refused with a typed error
 * that says what to do, never misread.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { epochText } from "../src/cli/eval.js";
import { StorageError } from "../src/core/errors.js";
import { modelInfo } from "../src/export/modelRun.js";
import { writeFigure } from "../src/plot/render.js";
import { readMetrics } from "../src/plot/runs.js";
import { acquireLock, lockHolder, startedAfter } from "../src/train/fsio.js";
import { noCheckpoint } from "../src/train/runFolder.js";
import type { TrainConfig } from "../src/train/config.js";
import { smallMlp, toySet } from "./toy-model.js";

const root = mkdtempSync(join(tmpdir(), "bc-recovery-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("a lock whose process number was reused", () => {
  it("startedAfter tells a process started after a time from one started before it", () => {
    expect(startedAfter(process.pid, Date.parse("2000-01-01T00:00:00Z"))).toBe(true);
    expect(startedAfter(process.pid, Date.now())).toBe(false);
    expect(startedAfter(process.pid, Number.NaN)).toBe(false);
    expect(startedAfter(2 ** 30, 0)).toBe(false); // no such process: nothing to read
  });

  it("a live process that started after the lock was written does not hold it; one that started before does", async () => {
    const path = join(root, "lock-reused.lock");
    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 20000)"], { stdio: "ignore" });
    try {
      await new Promise((r) => setTimeout(r, 100));
      const host = hostname();
      writeFileSync(path, JSON.stringify({ pid: child.pid, host, started: "2000-01-01T00:00:00.000Z" }));
      expect(lockHolder(path)?.live).toBe(false);
      writeFileSync(path, JSON.stringify({ pid: child.pid, host, started: new Date().toISOString() }));
      expect(lockHolder(path)?.live).toBe(true);
    } finally {
      child.kill();
    }
  });
});

describe("a lock written without its start time", () => {
  it("is read with an empty start, and the takeover note leaves the start out", () => {
    const dir = join(root, "lock-no-start");
    const path = join(root, "lock-no-start.lock");
    writeFileSync(path, JSON.stringify({ pid: 2 ** 22 + 54321, host: hostname() }));
    expect(lockHolder(path)?.info?.started).toBe("");
    const lock = acquireLock(path, dir);
    try {
      expect(lock.note).toBe(
        `note: ${dir} was locked by process ${2 ** 22 + 54321} on ${hostname()}, which no longer runs; taking the run over`,
      );
    } finally {
      lock.release();
    }
  });
});

describe("a resumed run folder", () => {
  const train = toySet(60);
  const opts = (dir: string, epochs: number) => ({ epochs, batchSize: 20, validation: 0.25, checkpointDir: dir });

  it("writes config.json again where it was deleted or damaged", async () => {
    const dir = join(root, "config");
    await smallMlp().fit(train, opts(dir, 1));
    rmSync(join(dir, "config.json"));
    await smallMlp().fit(train, opts(dir, 2));
    expect((JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as TrainConfig).epochs).toBe(2);
    writeFileSync(join(dir, "config.json"), "{ garbage");
    await smallMlp().fit(train, opts(dir, 2));
    expect((JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as TrainConfig).epochs).toBe(2);
  });

  it("says that a damaged or missing best.bin is written again only at the next best epoch", async () => {
    const dir = join(root, "best");
    await smallMlp().fit(train, opts(dir, 1));
    const bytes = readFileSync(join(dir, "best.bin"));
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(join(dir, "best.bin"), bytes);
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      await smallMlp().fit(train, opts(dir, 1));
      expect(warn.mock.calls.flat().join("\n")).toMatch(
        /best\.bin is damaged \(.*checksum.*\); it is written again at the next epoch whose validation error is the best so far/,
      );
      warn.mockClear();
      rmSync(join(dir, "best.bin"));
      await smallMlp().fit(train, opts(dir, 1));
      expect(warn.mock.calls.flat().join("\n")).toMatch(/best\.bin is missing; .*--which last/);
    } finally {
      warn.mockRestore();
    }
  });
});

describe("what a checkpoint holds, as eval and export say it", () => {
  const best = { valError: 0.05, testError: 0.06, epoch: 4 };
  const network = smallMlp().network;

  it("a checkpoint part way through an epoch: the epochs done and the steps of the next, no best epoch's errors", () => {
    expect(epochText({ epochsDone: 1, partial: { epoch: 2, batch: 46 } })).toBe("epoch 1 and 46 steps of epoch 2");
    expect(epochText({ epochsDone: 6 })).toBe("epoch 6");
    const info = modelInfo(network, "checkpoint.bin", {
      epochsDone: 1,
      best: { ...best, epoch: 1 },
      partial: { epoch: 2, batch: 46 },
    });
    expect(info.epoch).toBe(1);
    expect(info.stepsOfNextEpoch).toBe(46);
    expect(info.validationError).toBeUndefined();
    expect(info.testError).toBeUndefined();
  });

  it("the best epoch's errors go with the best epoch's model only", () => {
    const atBest = modelInfo(network, "best.bin", { epochsDone: 4, best });
    expect([atBest.validationError, atBest.testError]).toEqual([0.05, 0.06]);
    const last = modelInfo(network, "checkpoint.bin", { epochsDone: 6, best });
    expect(last.epoch).toBe(6);
    expect(last.validationError).toBeUndefined();
  });

  it("a folder without the file asked for: --which last only where checkpoint.bin is there", () => {
    expect(noCheckpoint(join(root, "nothing"), "best").hint).toMatch(/train first/);
    writeFileSync(join(root, "checkpoint.bin"), "");
    expect(noCheckpoint(root, "best", "evaluates").hint).toMatch(
      /no best\.bin .*--which last evaluates its checkpoint\.bin/,
    );
  });
});

describe("plot's inputs and outputs", () => {
  it("a metrics.jsonl record that is not an epoch's record is an error with a way out; a torn last line is left out", () => {
    const path = join(root, "metrics.jsonl");
    const good =
      '{"epoch":1,"train_loss":0.5,"train_error":0.1,"val_loss":0.4,"val_error":0.1,"test_error":0.1,"best_epoch":1,"lr":0.001}';
    writeFileSync(path, `${good}\n{"epoch":2}\n${good.replace('"epoch":1', '"epoch":3')}\n`);
    expect(() => readMetrics(path)).toThrow(/line 2 is not an epoch's record[\s\S]*resume/);
    writeFileSync(path, `${good}\n{"epoch":2,"train_lo`);
    expect(readMetrics(path).map((r) => r.epoch)).toEqual([1]);
  });

  it("a figure that cannot be written is a StorageError, and leaves no file", () => {
    const file = join(root, "a-file");
    writeFileSync(file, "x");
    const figure = { svg: "<svg/>", png: new Uint8Array(8) };
    expect(() => writeFigure(join(file, "figures"), "curves", figure)).toThrow(StorageError);
    const dir = join(root, "figures");
    expect(writeFigure(dir, "curves", figure)).toEqual([join(dir, "curves.svg"), join(dir, "curves.png")]);
    expect(readFileSync(join(dir, "curves.svg"), "utf8")).toBe("<svg/>");
  });
});
