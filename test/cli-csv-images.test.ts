/**
 * The command line on the user's own data: `train --csv FILE` and `train --images DIR` (with
 * --test, --label, --shape, --validation, --preprocess), then `eval`, `train --resume`, `export`
 * and `predict` on the same run, which read the data back from the run's configuration. (The
 * built CLI in dist/.)
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encode as encodePng } from "fast-png";
import * as ort from "onnxruntime-node";
import { beforeAll, describe, expect, it } from "vitest";
import * as bc from "../src/index.js";
import { confusionCounts, confusionText } from "../src/cli/confusion.js";
import { parsePreprocess, parseShape } from "../src/cli/ownData.js";
import { fromArrays } from "../src/data/dataset.js";
import { ownDataSplits, secondCsvOptions, shuffled, splitValidation } from "../src/train/ownData.js";
import { loadCheckpoint } from "../src/train/checkpoint.js";
import type { CheckpointMeta } from "../src/train/trainer.js";
import { CLI, cli, expectCleanError, metricsOf, withoutTimings, words } from "./cli-helpers.js";
import { smallMlp, uniform } from "./toy-model.js";

const QUIET = words("--backend wasm --threads 1");
const CLASSES = ["cat", "dog", "owl"];

/** Rows of 4 features around a centre per class, the class's name in the column "kind" (second of five). */
function blobsCsv(n: number, seed: number): string {
  const r = uniform(seed);
  const lines = ["a,kind,b,c,d"];
  for (let i = 0; i < n; i++) {
    const k = i % 3;
    const f = [0, 1, 2, 3].map((j) => (2 * k + j + (r() - 0.5) * 1.5).toFixed(3));
    lines.push([f[0], CLASSES[k], ...f.slice(1)].join(","));
  }
  return `${lines.join("\n")}\n`;
}

/** The CSV text with its columns in the order of `names` (header names). */
function withColumns(text: string, names: readonly string[]): string {
  const [head, ...rows] = text
    .trim()
    .split("\n")
    .map((l) => l.split(","));
  const order = names.map((n) => head.indexOf(n));
  return `${[head, ...rows].map((cells) => order.map((c) => cells[c]).join(",")).join("\n")}\n`;
}

/** A folder of two classes: "left" images bright on their left half, "right" on their right, of varied sizes. */
function writeImages(dir: string, perClass: number, seed: number): void {
  const r = uniform(seed);
  for (const cls of ["left", "right"]) {
    mkdirSync(join(dir, cls), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const width = 12 + (i % 3) * 4,
        height = 12;
      const data = new Uint8Array(width * height * 3);
      for (let y = 0; y < height; y++)
        for (let x = 0; x < width; x++) {
          const bright = (cls === "left") === x < width / 2;
          for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = Math.floor((bright ? 150 : 30) + r() * 80);
        }
      writeFileSync(
        join(dir, cls, `${String(i).padStart(3, "0")}.png`),
        encodePng({ width, height, data, channels: 3 }),
      );
    }
  }
}

const testErrorOf = (text: string) => Number(/test error (?:at that epoch )?([\d.]+)%/.exec(text)?.[1]);
const configOf = (dir: string) => JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));

describe("train --csv", () => {
  let root: string, train: string, test: string, runDir: string, trained: ReturnType<typeof cli>;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "bc-csv-"));
    train = join(root, "blobs.csv");
    test = join(root, "blobs-test.csv");
    writeFileSync(train, blobsCsv(300, 1));
    writeFileSync(test, blobsCsv(60, 2));
    runDir = join(root, "run");
    trained = cli([
      "train",
      ...QUIET,
      ...words("--label kind --architecture (2x32FC)-3 --epochs 6 --batch-size 30 --validation 0.2"),
      ...["--csv", train, "--test", test, "--out", runDir],
    ]);
  }, 60_000);

  it("trains on the file's split and names its classes", () => {
    expect(trained.status, trained.stderr).toBe(0);
    expect(trained.stdout).toContain(
      `data: ${train}, test ${test}: train 240, validation 60, test 60, 3 classes (cat, dog, owl)`,
    );
    const config = configOf(runDir);
    expect(config.dataset).toBe("csv");
    expect(config.source).toMatchObject({
      train,
      test,
      label: "kind",
      validation: 0.2,
      preprocess: [{ kind: "subtractMean" }],
    });
    expect(config.classNames).toEqual(CLASSES);
    expect([config.architecture, config.hidden]).toEqual(["(2x32FC)-3", []]);
    expect(config.network.input).toEqual([4]);
    expect(metricsOf(runDir)).toHaveLength(6);
    // the classes are told apart (3 classes: chance is 67 % error)
    expect(testErrorOf(trained.stdout)).toBeLessThan(20);
  });

  it("eval reads the run's test file again: the error the training reported", () => {
    const r = cli(["eval", runDir, ...QUIET]);
    expect(r.status, r.stderr).toBe(0);
    expect(testErrorOf(r.stdout)).toBe(testErrorOf(trained.stdout));
    expect(r.stdout).toContain("on 60 examples");
    // --confusion: each class's error, and a matrix whose off-diagonal counts are the errors
    const c = cli(["eval", runDir, ...QUIET, "--confusion"]);
    expect(c.status, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/^per class \(error, examples\):\n {2}cat +[\d.]+% +\d+\n {2}dog /m);
    const rows = CLASSES.map((name) =>
      new RegExp(`^ {2}${name}((?: +\\d+){3})$`, "m").exec(c.stdout)![1].trim().split(/ +/).map(Number),
    );
    const total = rows.flat().reduce((a, b) => a + b, 0);
    const wrong = total - rows.reduce((a, row, t) => a + row[t], 0);
    expect(total).toBe(60);
    // a row holds the test file's examples of that class
    const inFile = CLASSES.map((name) => readFileSync(test, "utf8").split(`,${name},`).length - 1);
    expect(rows.map((row) => row.reduce((a, b) => a + b, 0))).toEqual(inFile);
    expect(((100 * wrong) / total).toFixed(2)).toBe(testErrorOf(trained.stdout).toFixed(2));
    const json = JSON.parse(cli(["eval", runDir, ...QUIET, "--confusion", "--json"]).stdout);
    expect(json).toMatchObject({ epoch: 6, mode: "det", testTime: "binary", examples: 60, classes: CLASSES });
    expect((100 * json.testError).toFixed(2)).toBe(testErrorOf(trained.stdout).toFixed(2));
    expect(json.confusion).toEqual(rows);
    expect(Object.keys(JSON.parse(cli(["eval", runDir, ...QUIET, "--json", "--data", train]).stdout))).toContain(
      "trainingError",
    );
    expectCleanError(
      cli(["eval", runDir, ...QUIET, "--confusion", "--test-time", "ensemble:3"]),
      /--confusion needs one network's predictions/,
    );
    const onTrain = cli(["eval", runDir, ...QUIET, "--data", train]);
    expect(onTrain.stdout).toMatch(/error on its training data [\d.]+% on 300 examples/);
    expect(onTrain.stderr).toContain("is the run's training data; the error on it is not a test error");
  });

  it("--resume continues on the recorded file, or on the same data moved (--data), and refuses other data", () => {
    const moved = join(root, "moved.csv");
    copyFileSync(train, moved);
    const copy = join(root, "run-copy");
    const first = cli([
      "train",
      ...QUIET,
      ...words("--label kind --architecture (2x32FC)-3 --epochs 2 --batch-size 30"),
      "--csv",
      train,
      "--out",
      copy,
    ]);
    expect(first.status, first.stderr).toBe(0);
    const resumed = cli(["train", "--resume", copy, ...QUIET, "--epochs", "3", "--data", moved]);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(metricsOf(copy).map((m) => m.epoch)).toEqual([1, 2, 3]);
    const other = join(root, "other.csv");
    writeFileSync(other, blobsCsv(300, 9));
    expectCleanError(
      cli(["train", "--resume", copy, ...QUIET, "--epochs", "4", "--data", other]),
      /trained on other data/,
    );
  });

  it("export keeps the class names; predict prints them, and gives the eval's error on a labelled file", () => {
    const model = join(root, "blobs.bcnet");
    expect(cli(["export", runDir, "--out", model]).status).toBe(0);
    // summary of the run folder: the file export wrote, line for line after the first
    const ofFile = cli(["summary", model]).stdout.split("\n");
    const ofRun = cli(["summary", runDir]).stdout.split("\n");
    expect(ofRun[0]).toContain(`${runDir} (best.bin, as export writes it): .bcnet model`);
    expect(ofRun.slice(1)).toEqual(ofFile.slice(1));
    expect(ofFile.join("\n")).toContain('"classNames":["cat","dog","owl"]');
    const rows = join(root, "rows.csv");
    const lines = readFileSync(test, "utf8").trim().split("\n");
    // rows of the four features only (the label column dropped), with a header
    writeFileSync(
      rows,
      `${lines
        .slice(0, 4)
        .map((l) =>
          l
            .split(",")
            .filter((_, i) => i !== 1)
            .join(","),
        )
        .join("\n")}\n`,
    );
    const p = cli(["predict", model, rows]);
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout).toMatch(
      /^rows\.csv\[0\]: class \d \((cat|dog|owl)\) {2}scores cat:-?[\d.]+ dog:-?[\d.]+ owl:-?[\d.]+$/m,
    );
    expect(p.stdout.trim().split("\n")).toHaveLength(3);
    const json = JSON.parse(cli(["predict", model, rows, "--json"]).stdout);
    expect(CLASSES[json.predictions[0].class]).toBe(json.predictions[0].className);
    // the model file records the label column: the same file without --label, and with it
    const recorded = cli(["predict", model, test]);
    expect(recorded.status, recorded.stderr).toBe(0);
    const labelled = cli(["predict", model, test, "--label", "kind"]);
    expect(labelled.stdout.replace(/ in \d+ ms/, "")).toBe(recorded.stdout.replace(/ in \d+ ms/, ""));
    expect(labelled.status, labelled.stderr).toBe(0);
    expect(labelled.stdout).toMatch(/of 60 rows, labels from column index 1 \("kind"\)\)/);
    expect(Number(/error rate ([\d.]+)%/.exec(labelled.stdout)?.[1])).toBe(testErrorOf(trained.stdout));
    // --json: the error rate, and each row's prediction beside its label
    const j = JSON.parse(cli(["predict", model, test, "--json"]).stdout);
    expect([j.rows, j.predictions.length]).toEqual([60, 60]);
    const wrong = j.predictions.filter((q: { class: number; label: number }) => q.class !== q.label).length;
    expect([j.errors, (100 * j.errorRate).toFixed(2)]).toEqual([wrong, testErrorOf(trained.stdout).toFixed(2)]);
    expect(j.predictions[0]).toMatchObject({ name: "blobs-test.csv[0]", className: CLASSES[j.predictions[0].class] });
  });

  it("a test set is numbered by the training data's class names (a subset is fine) and needs its columns", () => {
    const lines = readFileSync(test, "utf8").trim().split("\n");
    const owls = join(root, "owls.csv");
    writeFileSync(owls, `${[lines[0], ...lines.slice(1).filter((l) => l.includes(",owl,"))].join("\n")}\n`);
    const r = cli(["eval", runDir, ...QUIET, "--data", owls]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("on 20 examples");
    expect(testErrorOf(r.stdout)).toBeLessThan(50); // "owl" is class 2 here too (the file's only class would be 0)
    const narrow = join(root, "narrow.csv");
    writeFileSync(narrow, `${lines.map((l) => l.split(",").slice(0, 3).join(",")).join("\n")}\n`);
    expectCleanError(
      cli(["eval", runDir, ...QUIET, "--data", narrow]),
      /narrow\.csv: expected the feature columns "a", "b", "c", "d", found no column named "c", "d"/,
    );
    // files without a header are read by position: the width is checked
    const bareTrain = join(root, "bare.csv"),
      bare = join(root, "narrow-bare.csv"),
      bareRun = join(root, "run-bare");
    writeFileSync(bareTrain, `${readFileSync(train, "utf8").trim().split("\n").slice(1).join("\n")}\n`);
    writeFileSync(
      bare,
      `${lines
        .slice(1)
        .map((l) => l.split(",").slice(0, 3).join(","))
        .join("\n")}\n`,
    );
    const args = words("--label 1 --architecture (2x32FC)-3 --epochs 1 --batch-size 30");
    expect(cli(["train", ...QUIET, ...args, "--csv", bareTrain, "--out", bareRun]).status).toBe(0);
    expect(configOf(bareRun).featureNames).toBeUndefined();
    expectCleanError(
      cli(["eval", bareRun, ...QUIET, "--data", bare]),
      /narrow-bare\.csv: 2 values per example \(the columns besides the label\); the training data has 4/,
    );
    const rose = join(root, "rose.csv");
    writeFileSync(rose, "a,kind,b,c,d\n1,rose,2,3,4\n");
    expectCleanError(
      cli(["eval", runDir, ...QUIET, "--data", rose]),
      /class "rose" is not one of the training data's: "cat", "dog", "owl"/,
    );
  });

  it("a second file without a header is read by position, its label where the training file had it", () => {
    const [, ...rows] = readFileSync(test, "utf8").trim().split("\n");
    const bare = join(root, "test-bare.csv");
    writeFileSync(bare, `${rows.join("\n")}\n`);
    const e = cli(["eval", runDir, ...QUIET, "--data", bare]);
    expect(e.status, e.stderr).toBe(0);
    expect(testErrorOf(e.stdout)).toBe(testErrorOf(trained.stdout));
    const model = join(root, "bare.bcnet");
    expect(cli(["export", runDir, "--out", model]).status).toBe(0);
    const p = cli(["predict", model, bare]);
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout).toContain("labels from column index 1)"); // no header: the index alone
    expect(Number(/error rate ([\d.]+)%/.exec(p.stdout)?.[1])).toBe(testErrorOf(trained.stdout));
  });

  it("a label given by index, or named otherwise in a second file: its header's left-over column", () => {
    const renamed = join(root, "test-renamed.csv");
    writeFileSync(renamed, readFileSync(test, "utf8").replace(/^a,kind,/, "a,class,"));
    const e = cli(["eval", runDir, ...QUIET, "--data", renamed]);
    expect(e.status, e.stderr).toBe(0);
    expect(testErrorOf(e.stdout)).toBe(testErrorOf(trained.stdout));
    // trained with --label 1 (an index), tested on a file with its label last
    const lastLabel = join(root, "test-label-last.csv"),
      dir = join(root, "run-index");
    writeFileSync(lastLabel, withColumns(readFileSync(test, "utf8"), ["a", "b", "c", "d", "kind"]));
    const args = words("--label 1 --architecture (2x32FC)-3 --epochs 2 --batch-size 30");
    const r = cli(["train", ...QUIET, ...args, "--csv", train, "--test", lastLabel, "--out", dir]);
    expect(r.status, r.stderr).toBe(0);
    const original = cli(["eval", dir, ...QUIET, "--data", test]);
    expect(original.status, original.stderr).toBe(0);
    expect(testErrorOf(original.stdout)).toBe(testErrorOf(r.stdout));
  });

  it("files with a header are read by the training file's column names, in any order", async () => {
    expect(configOf(runDir).featureNames).toEqual(["a", "b", "c", "d"]);
    expect(configOf(runDir).source).toMatchObject({ label: "kind", labelIndex: 1 });
    const reordered = join(root, "reordered.csv");
    writeFileSync(reordered, withColumns(readFileSync(test, "utf8"), ["d", "kind", "b", "a", "c"]));
    const r = cli(["eval", runDir, ...QUIET, "--data", reordered]);
    expect(r.status, r.stderr).toBe(0);
    expect(testErrorOf(r.stdout)).toBe(testErrorOf(trained.stdout));
    // the same run with the reordered file as its --test: the same test error
    const again = cli([
      "train",
      ...QUIET,
      ...words("--label kind --architecture (2x32FC)-3 --epochs 6 --batch-size 30 --validation 0.2"),
      ...["--csv", train, "--test", reordered, "--out", join(root, "run-reordered")],
    ]);
    expect(again.status, again.stderr).toBe(0);
    expect(testErrorOf(again.stdout)).toBe(testErrorOf(trained.stdout));
    // the model file records the names: predict finds them too, with the label left over or without it
    const model = join(root, "named.bcnet");
    expect(cli(["export", runDir, "--out", model]).status).toBe(0);
    expect(cli(["summary", model]).stdout).toContain('"columns":["a","b","c","d"]');
    const p = cli(["predict", model, reordered]);
    expect(p.status, p.stderr).toBe(0);
    expect(Number(/error rate ([\d.]+)%/.exec(p.stdout)?.[1])).toBe(testErrorOf(trained.stdout));
    const inOrder = join(root, "features.csv"),
      shuffledColumns = join(root, "features-shuffled.csv");
    writeFileSync(inOrder, withColumns(readFileSync(test, "utf8"), ["a", "b", "c", "d"]));
    writeFileSync(shuffledColumns, withColumns(readFileSync(test, "utf8"), ["c", "a", "d", "b"]));
    const classesOf = (file: string) =>
      JSON.parse(cli(["predict", model, file, "--json"]).stdout).predictions.map((q: { class: number }) => q.class);
    const expected = classesOf(inOrder);
    expect(expected).toHaveLength(60);
    expect(classesOf(shuffledColumns)).toEqual(expected);
    // the ONNX graph of a model on feature vectors takes "features" (in the training's order), and classifies as predict does
    const onnx = join(root, "named.onnx");
    expect(cli(["export", runDir, "--format", "onnx", "--out", onnx]).status).toBe(0);
    const session = await ort.InferenceSession.create(readFileSync(onnx));
    expect(session.inputNames).toEqual(["features"]);
    const rows = readFileSync(inOrder, "utf8").trim().split("\n").slice(1);
    const x = Float32Array.from(rows.flatMap((l) => l.split(",").map(Number)));
    const scores = (await session.run({ features: new ort.Tensor("float32", x, [60, 4]) })).scores.data as Float32Array;
    const argmax = Array.from({ length: 60 }, (_, i) => {
      const s = Array.from(scores.subarray(3 * i, 3 * i + 3));
      return s.indexOf(Math.max(...s));
    });
    expect(argmax).toEqual(expected);
    await session.release();
    // a column missing, or one that is neither a feature nor the label: clear errors
    const missing = join(root, "missing.csv"),
      extra = join(root, "extra.csv");
    writeFileSync(missing, withColumns(readFileSync(test, "utf8"), ["kind", "a", "b", "d"]));
    const [head, ...rest] = withColumns(readFileSync(test, "utf8"), ["kind", "a", "b", "c", "d"]).trim().split("\n");
    writeFileSync(extra, `${[`${head},e`, ...rest.map((l) => `${l},7`)].join("\n")}\n`);
    expectCleanError(cli(["eval", runDir, ...QUIET, "--data", missing]), /found no column named "c"/);
    expectCleanError(
      cli(["predict", model, missing]),
      /expected the model's feature columns by name .*found no column named "c"/,
    );
    expectCleanError(cli(["eval", runDir, ...QUIET, "--data", extra]), /found also "e"/);
  });

  it("--resume takes the training file (--data) and the test file (--test) where they moved", () => {
    const moved = join(root, "moved");
    mkdirSync(moved);
    const a = join(root, "a.csv"),
      b = join(root, "b.csv");
    copyFileSync(train, a);
    copyFileSync(test, b);
    const dir = join(root, "run-moved");
    const args = words("--label kind --architecture (2x32FC)-3 --epochs 1 --batch-size 30");
    expect(cli(["train", ...QUIET, ...args, "--csv", a, "--test", b, "--out", dir]).status).toBe(0);
    renameSync(a, join(moved, "a.csv"));
    renameSync(b, join(moved, "b.csv"));
    expectCleanError(
      cli(["train", "--resume", dir, ...QUIET, "--epochs", "2"]),
      /the run's training data .*a\.csv and its test set .*b\.csv are not there[\s\S]*if they moved, give the new place: train --resume DIR --data PATH --test PATH/,
    );
    expectCleanError(
      cli(["train", "--resume", dir, ...QUIET, "--epochs", "2", "--data", join(moved, "a.csv")]),
      /the run's test set .*b\.csv is not there[\s\S]*if it moved, give the new place: train --resume DIR --test PATH/,
    );
    expectCleanError(cli(["eval", dir, ...QUIET]), /the run's test set .*b\.csv is not there[\s\S]*--data PATH/);
    const r = cli([
      "train",
      "--resume",
      dir,
      ...QUIET,
      "--epochs",
      "2",
      "--data",
      join(moved, "a.csv"),
      "--test",
      join(moved, "b.csv"),
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(metricsOf(dir).map((m) => m.epoch)).toEqual([1, 2]);
    // the run keeps the new places: a later resume and eval need no flags
    expect(configOf(dir).source).toMatchObject({ train: join(moved, "a.csv"), test: join(moved, "b.csv") });
    const later = cli(["train", "--resume", dir, ...QUIET, "--epochs", "3"]);
    expect(later.status, later.stderr).toBe(0);
    expect(cli(["eval", dir, ...QUIET, "--which", "last"]).status).toBe(0);
    // moved again, and resumed with nothing to train: config.json takes the new place, best.bin
    // keeps its epoch's old one, and eval reads the data where it is now
    const again = join(root, "moved-again");
    renameSync(moved, again);
    const noop = cli([
      "train",
      "--resume",
      dir,
      ...QUIET,
      ...["--data", join(again, "a.csv"), "--test", join(again, "b.csv")],
    ]);
    expect(noop.stdout).toContain("nothing to train");
    const e = cli(["eval", dir, ...QUIET]);
    expect(e.status, e.stderr).toBe(0);
    expect(e.stdout).toContain("on 60 examples");
  });

  it("a run stopped after its first epoch and resumed ends with the weights of an uninterrupted one (the same split)", () => {
    const args = [...QUIET, ...words("--label kind --architecture (2x32FC)-3 --batch-size 30 --seed 7 --csv"), train];
    const whole = join(root, "whole"),
      parts = join(root, "parts");
    expect(cli(["train", ...args, "--epochs", "3", "--out", whole]).status).toBe(0);
    expect(cli(["train", ...args, "--epochs", "1", "--out", parts]).status).toBe(0);
    expect(cli(["train", "--resume", parts, ...QUIET, "--epochs", "3"]).status).toBe(0);
    const a = loadCheckpoint<CheckpointMeta>(join(whole, "checkpoint.bin")).tensors;
    const b = loadCheckpoint<CheckpointMeta>(join(parts, "checkpoint.bin")).tensors;
    expect(b.map((t) => t.name)).toEqual(a.map((t) => t.name));
    a.forEach((t, i) => {
      expect(
        Buffer.from(b[i].data.buffer, b[i].data.byteOffset, b[i].data.byteLength).equals(
          Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength),
        ),
        t.name,
      ).toBe(true);
    });
    expect(metricsOf(parts).map(withoutTimings)).toEqual(metricsOf(whole).map(withoutTimings));
  });

  it("eval measures on the run's --test-size; whole-number labels are class indices, and the errors say so", () => {
    const dir = join(root, "run-limited");
    const args = words("--label kind --architecture (2x32FC)-3 --epochs 1 --batch-size 30 --test-size 7");
    const r = cli(["train", ...QUIET, ...args, "--csv", train, "--test", test, "--out", dir]);
    expect(r.stdout).toContain("test 7");
    expect(cli(["eval", dir, ...QUIET]).stdout).toContain("on 7 examples");
    const numbered = join(root, "numbered.csv");
    const n = CLASSES.length;
    writeFileSync(
      numbered,
      readFileSync(train, "utf8").replace(/,(cat|dog|owl),/g, (_, c: string) => `,${CLASSES.indexOf(c) + 1},`),
    );
    expectCleanError(
      cli(["train", ...QUIET, ...words("--label kind --architecture (2x32FC)-3 --csv"), numbered]),
      new RegExp(
        `ends in ${n} classes; the data has ${n + 1} \\(its labels are whole numbers, read as class indices 0\\.\\.${n}\\)`,
      ),
    );
  });

  it("defaults for a small file: a batch of a tenth of the training split; another delimiter with --delimiter", () => {
    const semi = join(root, "semi.csv");
    writeFileSync(semi, readFileSync(train, "utf8").replaceAll(",", ";"));
    const dir = join(root, "run-semi");
    const r = cli([
      "train",
      ...QUIET,
      "--epochs",
      "1",
      "--label",
      "kind",
      "--delimiter",
      ";",
      "--csv",
      semi,
      "--out",
      dir,
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(configOf(dir).batchSize).toBe(27); // 270 training rows
    expect(r.stdout).toContain("3 classes (cat, dog, owl); batch 27;");
    expect(configOf(dir).source.delimiter).toBe(";");
    // predict reads a file of the training's kind with the recorded delimiter and label column
    const model = join(root, "semi.bcnet");
    expect(cli(["export", dir, "--out", model]).status).toBe(0);
    const p = cli(["predict", model, semi]);
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/^error rate [\d.]+% \(\d+ of 300 rows, labels from column index 1 \("kind"\)\)/);
    // eval reads the run's delimiter; --delimiter reads a file of another (the same error on the same rows)
    const e = cli(["eval", dir, ...QUIET, "--data", semi]);
    expect(e.status, e.stderr).toBe(0);
    const commas = cli(["eval", dir, ...QUIET, "--data", train, "--delimiter", ","]);
    expect(commas.status, commas.stderr).toBe(0);
    const rate = (text: string) => /([\d.]+)% on 300 examples/.exec(text)?.[1];
    expect(rate(commas.stdout)).toBeDefined();
    expect(rate(commas.stdout)).toBe(rate(e.stdout));
    expectCleanError(cli(["eval", dir, ...QUIET, "--data", train]), /expected at least 2 columns[\s\S]*--delimiter/);
    expectCleanError(cli(["eval", semi, ...QUIET]), /semi\.csv is a file, not a run folder/);
  });

  it("bad input gets a clear error", () => {
    const base = ["train", ...QUIET, "--epochs", "1", "--out", join(root, "never")];
    expectCleanError(
      cli([...base, "--csv", train, "--label", "kind", "--architecture", "64FC-10"]),
      /ends in 10 classes; the data has 3/,
    );
    expectCleanError(
      cli([...base, "--csv", train, "--label", "kind", "--architecture", "8C3-3"]),
      /need images; the examples have shape \[4\]/,
    );
    expectCleanError(cli([...base, "--csv", root]), /is a folder, not a CSV file/);
    expectCleanError(cli([...base, "--csv", train, "--label", "nope"]), /expected a column named "nope"/);
    expectCleanError(cli([...base, "--test", test]), /--test applies to your own data only/);
    expectCleanError(cli([...base, "--csv", train, "--data", root]), /--data applies to the preset's datasets/);
    expectCleanError(cli([...base, "--csv", train, "--images", root]), /cannot be used with option '--images/);
    expect(cli([...base, "--csv", train, "--validation", "1.5"]).stderr).toContain(
      'expected a fraction between 0 and 1 (e.g. 0.1), found "1.5"',
    );
    const noTest = join(root, "no-test");
    expect(
      cli(["train", ...QUIET, "--epochs", "1", "--label", "kind", "--csv", train, "--out", noTest]).stdout,
    ).toContain("no test set");
    expectCleanError(
      cli(["eval", noTest, ...QUIET]),
      /trained without a test set[\s\S]*give one with --data: a CSV file/,
    );
    const model = join(root, "no-test.bcnet");
    expect(cli(["export", noTest, "--out", model]).status).toBe(0);
    const png = join(root, "one.png");
    writeFileSync(png, encodePng({ width: 2, height: 2, data: new Uint8Array(12), channels: 3 }));
    expectCleanError(
      cli(["predict", model, png]),
      /this model takes rows of 4 values, not images[\s\S]*pass CSV files/,
    );
    const header = join(root, "header.csv");
    writeFileSync(header, "a,b,c,d\n");
    expectCleanError(cli(["predict", model, header]), /expected data rows after the header, found none/);
  });
});

describe("a run folder written by the library", () => {
  it("eval measures it on a CSV given with --data; train --resume says to continue from code", async () => {
    const root = mkdtempSync(join(tmpdir(), "bc-library-run-"));
    const train = join(root, "blobs.csv"),
      test = join(root, "blobs-test.csv"),
      dir = join(root, "run");
    writeFileSync(train, blobsCsv(300, 5));
    writeFileSync(test, blobsCsv(60, 6));
    const data = await bc.data.loadCsv(train, { label: "kind" });
    const model = smallMlp({ inputShape: [4], backend: "wasm" });
    await model.fit(data, {
      epochs: 3,
      batchSize: 30,
      validation: 0.1,
      checkpointDir: dir,
      preprocess: [bc.preprocess.subtractMean()],
    });
    expectCleanError(
      cli(["eval", dir, ...QUIET]),
      /trained on data given to the library[\s\S]*give a test set with --data/,
    );
    // the CSV's label is its last column for eval; this file's is the second: a copy with it moved last
    const lastLabel = join(root, "test-last.csv");
    writeFileSync(
      lastLabel,
      readFileSync(test, "utf8")
        .trim()
        .split("\n")
        .map((l) => {
          const c = l.split(",");
          return [c[0], ...c.slice(2), c[1]].join(",");
        })
        .join("\n"),
    );
    const r = cli(["eval", dir, ...QUIET, "--data", lastLabel]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("on 60 examples"); // rows of features, not images
    const loaded = await bc.loadModel(join(dir, "best.bin"), { backend: "reference" });
    const expected = await loaded.evaluate(await bc.data.loadCsv(test, { label: "kind", classes: CLASSES }));
    expect(testErrorOf(r.stdout)).toBe(Number((100 * expected.error).toFixed(2)));
    const resumed = cli(["train", "--resume", dir, ...QUIET, "--epochs", "4"]);
    expectCleanError(
      resumed,
      /trained on data given to the library, which train --resume cannot read back[\s\S]*Model\.fit/,
    );
    expect(resumed.stdout).not.toContain("binaryconnect train:");
  }, 60_000);
});

describe("train --images", () => {
  let root: string, runDir: string, trained: ReturnType<typeof cli>;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "bc-images-"));
    writeImages(join(root, "train"), 40, 3);
    writeImages(join(root, "test"), 10, 4);
    runDir = join(root, "run");
    trained = cli([
      "train",
      ...QUIET,
      ...words("--shape 8x8x3 --architecture (2x8C3)-MP2-32FC-2 --epochs 8 --batch-size 16"),
      ...["--images", join(root, "train"), "--test", join(root, "test"), "--out", runDir],
    ]);
  }, 60_000);

  it("trains a CNN on the folder's images, resized to --shape", () => {
    expect(trained.status, trained.stderr).toBe(0);
    expect(trained.stdout).toContain("train 72, validation 8, test 20, 2 classes (left, right)");
    const config = configOf(runDir);
    expect(config.dataset).toBe("images");
    expect(config.network.input).toEqual([8, 8, 3]);
    expect(config.source.preprocess).toEqual([{ kind: "scale", factor: 1 / 255 }, { kind: "subtractMean" }]);
    expect(testErrorOf(trained.stdout)).toBeLessThan(20);
    const e = cli(["eval", runDir, ...QUIET]);
    expect(testErrorOf(e.stdout)).toBe(testErrorOf(trained.stdout));
  });

  it("predict --resize reads images of any size as the training did, and names the class", () => {
    const model = join(root, "lr.bcnet");
    expect(cli(["export", runDir, "--out", model]).status).toBe(0);
    const image = join(root, "test", "right", "001.png");
    expectCleanError(
      cli(["predict", model, image]),
      /expected an image of 8 x 8, found 16 x 12[\s\S]*or pass --resize/,
    );
    const p = cli(["predict", model, "--resize", image]);
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/^.*right\/001\.png: class \d \((left|right)\)/);
    const folder = cli(["predict", model, join(root, "test")]);
    expect(folder.status, folder.stderr).toBe(0);
    expect(Number(/error rate ([\d.]+)% \(\d+ of 20 images\)/.exec(folder.stdout)?.[1])).toBe(
      testErrorOf(trained.stdout),
    );
    const jpeg = join(root, "photo.jpg");
    writeFileSync(jpeg, Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16]));
    expectCleanError(cli(["predict", model, jpeg]), /photo\.jpg: a JPEG image[\s\S]*pass --resize/);
  });

  it("a network of dense layers on images keeps the image's shape: its model file classifies images", () => {
    const dir = join(root, "dense");
    const args = words(
      "--shape 8x8x3 --architecture (2x32FC)-2 --epochs 2 --batch-size 16 --preprocess scale=1/255,lcn",
    );
    const r = cli([
      "train",
      ...QUIET,
      ...args,
      "--images",
      join(root, "train"),
      "--test",
      join(root, "test"),
      "--out",
      dir,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const network = configOf(dir).network;
    expect(network.input).toEqual([8, 8, 3]);
    expect(network.layers[0]).toEqual({ kind: "flatten" });
    const model = join(root, "dense.bcnet");
    const e = cli(["export", dir, "--out", model]);
    expect(e.status, e.stderr).toBe(0);
    const p = cli(["predict", model, join(root, "test")]);
    expect(p.status, p.stderr).toBe(0);
    expect(Number(/error rate ([\d.]+)%/.exec(p.stdout)?.[1])).toBe(testErrorOf(r.stdout));
  });

  it("a test folder may hold some of the classes; the default run folder names the data's folder", () => {
    const some = join(root, "some");
    mkdirSync(some);
    cpSync(join(root, "test", "right"), join(some, "right"), { recursive: true });
    const r = cli(["eval", runDir, ...QUIET, "--data", some]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("on 10 images");
    expect(testErrorOf(r.stdout)).toBeLessThan(50); // "right" is class 1 here too
    const pets = join(root, "pets");
    mkdirSync(pets);
    cpSync(join(root, "train"), join(pets, "train"), { recursive: true });
    const out = mkdtempSync(join(tmpdir(), "bc-cwd-"));
    const t = spawnSync(
      process.execPath,
      [CLI, "train", ...QUIET, ...words("--epochs 1 --shape 8x8x3 --images"), join(pets, "train")],
      { cwd: out, encoding: "utf8" },
    );
    expect(t.status, t.stderr).toBe(0);
    expect(t.stdout).toContain("run folder runs/pets-train-det-seed1");
  });

  it("a preset's CNN ends in the data's classes; --images needs --shape", () => {
    const dir = join(root, "small");
    const r = cli([
      "train",
      ...QUIET,
      ...words("--preset cifar10-small --shape 8x8x3 --epochs 1 --batch-size 16"),
      "--images",
      join(root, "train"),
      "--out",
      dir,
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(configOf(dir).architecture).toBe("(2x32C3)-MP2-(2x64C3)-MP2-(2x128C3)-MP2-(2x256FC)-2");
    expectCleanError(cli(["train", ...QUIET, "--images", join(root, "train")]), /--images needs --shape/);
    const tiny = cli([
      "train",
      ...QUIET,
      ...words("--preset cifar10-small --shape 4x4x3 --epochs 1 --images"),
      join(root, "train"),
      "--out",
      join(root, "tiny"),
    ]);
    expectCleanError(
      tiny,
      /network: pool\d: the 2x2 pooling window is larger than its 1x1 input \(the network's input: \[4,4,3\]\)[\s\S]*hint: give a larger input, or fewer poolings/,
    );
    const one = join(root, "one");
    cpSync(join(root, "train", "left"), join(one, "left"), { recursive: true });
    expectCleanError(
      cli(["train", ...QUIET, "--shape", "8x8x3", "--images", one, "--out", join(root, "one-run")]),
      /holds one class only \(left\)/,
    );
  });
});

describe("own data: parsing and the split", () => {
  it("the confusion text: a class without examples has no error; past 20 classes the matrix is left out", () => {
    const counts = confusionCounts([0, 0, 1, 1], [0, 1, 1, 1], 3);
    expect(Array.from(counts)).toEqual([1, 1, 0, 0, 2, 0, 0, 0, 0]);
    const text = confusionText(counts, 3, ["a", "b", "c"]);
    expect(text).toContain("  a   50.00%  2\n  b    0.00%  2\n  c      -    0");
    const many = confusionText(new Int32Array(21 * 21), 21);
    expect(many).toContain("the 21 x 21 confusion matrix is left out");
  });

  it("shapes and preprocessing steps", () => {
    expect(parseShape("32x32x3")).toEqual([32, 32, 3]);
    expect(parseShape("28x28")).toEqual([28, 28, 1]);
    expect(parseShape("784")).toEqual([784]);
    expect(() => parseShape("32x0x3")).toThrow(/expected a shape/);
    expect(parsePreprocess("scale=1/255,subtract-mean")).toEqual([
      { kind: "scale", factor: 1 / 255 },
      { kind: "subtractMean" },
    ]);
    expect(parsePreprocess("gcn,zca")).toEqual([{ kind: "gcn" }, { kind: "zca" }]);
    expect(parsePreprocess("none")).toEqual([]);
    expect(() => parsePreprocess("scale")).toThrow(/scale needs a factor/);
    expect(() => parsePreprocess("whiten")).toThrow(/expected steps among/);
  });

  it("a training file names its features where its header tells them apart, and records its label's place", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bc-columns-"));
    const read = async (file: string, text: string, label?: string) => {
      writeFileSync(join(dir, file), text);
      const source = { train: join(dir, file), validation: 0.5, preprocess: [], ...(label ? { label } : {}) };
      const { train, recorded } = await ownDataSplits("csv", source, 1);
      return [train.featureNames, recorded];
    };
    const rows = "1,2,3,cat\n4,5,6,dog\n7,8,9,cat\n1,1,1,dog\n";
    expect(await read("named.csv", `p,q,r,y\n${rows}`)).toEqual([["p", "q", "r"], { labelIndex: 3 }]);
    expect(await read("twice.csv", `p,p,r,y\n${rows}`)).toEqual([undefined, { labelIndex: 3 }]);
    expect(await read("bare.csv", rows)).toEqual([undefined, { labelIndex: 3 }]);
    const first = `y,p,q,r\n${rows.replace(/^(.*),(\w+)$/gm, "$2,$1")}`;
    expect(await read("first.csv", first, "y")).toEqual([["p", "q", "r"], { labelIndex: 0 }]);
  });

  it("a second file's header: the training's label name, its feature names (not all numbers), or its content", () => {
    const training = { label: "species", columns: ["0", "1", "2", "3"], labelIndex: 4 };
    const row = (...cells: string[]) => cells;
    // a data row holding every feature name (pandas' numbered columns) is not a header
    expect(
      secondCsvOptions(row("3", "0", "1", "2", "setosa"), row("0.1", "3", "0.3", "0.1", "versicolor"), training),
    ).toEqual({
      header: false,
      label: 4,
    });
    expect(secondCsvOptions(row("0", "1", "2", "3", "species"), row("3", "0", "1", "2", "setosa"), training)).toEqual({
      header: true,
      columns: training.columns,
      label: "species",
    });
    const unnamed = { columns: ["0", "1"], labelIndex: 2 };
    expect(secondCsvOptions(row("1", "0", "y"), row("0.5", "2", "1"), unnamed)).toEqual({
      header: true,
      columns: ["0", "1"],
    });
    expect(secondCsvOptions(row("1", "0", "1"), row("0.5", "2", "0"), unnamed)).toEqual({ header: false, label: 2 });
    const named = { label: 1, columns: ["a", "b"], labelIndex: 1 };
    expect(secondCsvOptions(row("b", "a", "kind"), row("1", "2", "cat"), named)).toEqual({
      header: true,
      columns: ["a", "b"],
    });
    expect(() => bc.data.parseCsv("a,b\n1,2\n", { columns: ["a", "b"] })).toThrow(
      /expected a label column besides the feature columns "a", "b", found none/,
    );
  });

  it("the shuffle is the seed's (every example once), and the validation is its last fraction", () => {
    const d = fromArrays({
      x: Float32Array.from({ length: 20 }, (_, i) => i),
      y: Array.from({ length: 10 }, (_, i) => i % 2),
      shape: [2],
    });
    const a = shuffled(d, 1),
      b = shuffled(d, 1),
      c = shuffled(d, 2);
    expect(Array.from(a.x)).toEqual(Array.from(b.x));
    expect(Array.from(a.x)).not.toEqual(Array.from(c.x));
    expect(Array.from(a.x)).not.toEqual(Array.from(d.x));
    const firsts = Array.from({ length: 10 }, (_, i) => a.x[2 * i]);
    expect([...firsts].sort((p, q) => p - q)).toEqual(Array.from({ length: 10 }, (_, i) => 2 * i));
    firsts.forEach((v, i) => {
      expect(a.x[2 * i + 1]).toBe(v + 1);
      expect(a.y[i]).toBe((v / 2) % 2);
    });
    const { train, validation } = splitValidation(a, 0.3, "set");
    expect([train.n, validation.n]).toEqual([7, 3]);
    expect(Array.from(validation.x)).toEqual(Array.from(a.x.subarray(14)));
    expect(() => splitValidation(a, 0.01, "set")).toThrow(/cannot be split/);
  });
});
