/**
 * `reproduce --on k8s`: the Indexed Job it writes, parsed back against the Kubernetes types,
 * and the pod's command run here with a stand-in `node` that prints what it was given (no
 * cluster can run on this machine). Runs the built CLI (dist/).
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { Job } from "kubernetes-types/batch/v1.js";
import { afterAll, describe, expect, it } from "vitest";
import { planRuns, runArgs } from "../src/reproduce/plan.js";
import { indexRanges, shellQuote } from "../src/reproduce/task.js";
import { reproduceOn } from "./cli-helpers.js";

const CLI = new URL("../dist/src/cli/main.js", import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), "bc-cluster-k8s-"));
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
const SWEEP = ["--seeds", "2", "--epochs", "2", "--backend", "wasm", "--threads", "2", "--train-size", "500"];

describe("reproduce --on k8s", () => {
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const out = join(root, "mnist-exp");
  const mount = join(root, "volume");

  it("writes an Indexed Job: one completion index per run, the run folders on the claim", () => {
    const r = cli(
      ...reproduceOn("k8s", out, SWEEP),
      "--pvc",
      "bc-runs",
      "--mount",
      mount,
      "--image",
      "registry.example/binaryconnect:0.2.0",
      "--parallel",
      "3",
      "--gpus",
      "1",
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("an Indexed Job of 8 runs (image registry.example/binaryconnect:0.2.0, claim bc-runs");
    const job = JSON.parse(readFileSync(join(out, "k8s", "sweep.json"), "utf8")) as Job;
    expect(job.apiVersion).toBe("batch/v1");
    expect(job.kind).toBe("Job");
    expect(job.metadata?.name).toMatch(/^binaryconnect-mnist-quick-[0-9a-f]{8}$/);
    const spec = job.spec!;
    expect(spec.completionMode).toBe("Indexed");
    expect(spec.completions).toBe(8);
    expect(spec.parallelism).toBe(3);
    expect(spec.podFailurePolicy?.rules[0]).toEqual({
      action: "Ignore",
      onPodConditions: [{ type: "DisruptionTarget", status: "True" }],
    });
    const pod = spec.template.spec!;
    expect(pod.restartPolicy).toBe("Never");
    expect(pod.terminationGracePeriodSeconds).toBe(120);
    expect(pod.volumes).toEqual([{ name: "runs", persistentVolumeClaim: { claimName: "bc-runs" } }]);
    const container = pod.containers[0];
    expect(container.image).toBe("registry.example/binaryconnect:0.2.0");
    expect(container.volumeMounts).toEqual([{ name: "runs", mountPath: mount }]);
    expect(container.resources?.limits).toEqual({ cpu: "2", "nvidia.com/gpu": "1" });
    expect(container.command?.slice(0, 2)).toEqual(["bash", "-c"]);
    expect(container.command?.[2]).toContain('INDEX="${JOB_COMPLETION_INDEX:?');

    const record = JSON.parse(readFileSync(join(out, "sweep.json"), "utf8"));
    expect(record).toMatchObject({ dataset: "mnist", seeds: 2, epochs: 2, on: "k8s", threads: 2 });
  });

  it("each pod runs the local runner's train command for its index, or --resume where a checkpoint is", () => {
    const job = JSON.parse(readFileSync(join(out, "k8s", "sweep.json"), "utf8")) as Job;
    const script = job.spec!.template.spec!.containers[0].command![2];
    // a stand-in for the image's node: prints its arguments
    const bin = join(root, "bin");
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, "node"), '#!/bin/sh\necho "ARGS $*"\n');
    chmodSync(join(bin, "node"), 0o755);
    const pod = (index: number) =>
      spawnSync("bash", ["-c", script], {
        encoding: "utf8",
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, JOB_COMPLETION_INDEX: String(index) },
      });
    const plan = planRuns({
      dataset: "mnist",
      budget: "quick",
      seeds: 2,
      epochs: 2,
      outDir: join(mount, basename(out)),
    });
    const settings = { backend: "wasm", threads: 2, simd: "auto", extraTrainArgs: ["--train-size", "500"] };
    const r = pod(5);
    expect(r.status, r.stderr).toBe(0);
    const logged = readFileSync(join(plan[5].dir, "train.log"), "utf8");
    expect(logged).toContain(`ARGS /app/dist/src/cli/main.js ${runArgs(plan[5], false, settings).join(" ")}`);
    expect(logged).toContain(`$ binaryconnect ${runArgs(plan[5], false, settings).join(" ")}`);
    // an earlier pod of this index left a checkpoint: the next one resumes it
    writeFileSync(join(plan[5].dir, "checkpoint.bin"), "");
    expect(pod(5).status).toBe(0);
    expect(readFileSync(join(plan[5].dir, "train.log"), "utf8")).toContain(
      `ARGS /app/dist/src/cli/main.js train --resume ${plan[5].dir} --backend wasm --threads 2 --simd auto`,
    );
    const bad = pod(8);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("no run has index 8 (this sweep has 0-7)");
  });

  it("--on k8s without --pvc is an option error", () => {
    const r = cli(...reproduceOn("k8s", join(root, "x"), []));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("--on k8s needs --pvc");
  });

  it("quotes any argument for the task's shell, and lists task ids as ranges", () => {
    const words = ["plain/path-1.0", "a b", "it's", '$HOME "x" `y`', "", "*"];
    const r = spawnSync("bash", ["-c", `printf '%s\\n' ${words.map(shellQuote).join(" ")}`], { encoding: "utf8" });
    expect(r.stdout).toBe(words.map((w) => `${w}\n`).join(""));
    expect(indexRanges([5, 0, 1, 2, 7, 8, 3])).toBe("0-3,5,7-8");
    expect(indexRanges([4])).toBe("4");
  });
});
