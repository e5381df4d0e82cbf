/**
 * `reproduce --on k8s`: the experiment as a Kubernetes Indexed Job (one completion index per
 * method x seed), the run folders on a PersistentVolumeClaim. Written, not applied: `kubectl
 * apply -f DIR/k8s/sweep.json`.
 */
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { basename, join, posix, resolve } from "node:path";
import type { Job } from "kubernetes-types/batch/v1.js";
import { writeFileAtomic } from "../train/checkpoint.js";
import { planRuns, type PlanOptions, type RunSpec, type TrainSettings } from "./plan.js";
import { taskScript } from "./task.js";

export interface K8sOptions {
  /** The container image (built from the repository's Dockerfile). */
  image: string;
  /** The PersistentVolumeClaim that holds the run folders (ReadWriteMany when pods run on several nodes). */
  pvc: string;
  /** Where the claim is mounted in the pods. */
  mountPath: string;
  /** Pods at once (default: every run). */
  parallel?: number;
  cpusPerTask: number;
  gpus?: number;
  /** Seconds a pod has to checkpoint after SIGTERM (eviction, preemption, deletion). */
  gracePeriodSeconds: number;
  /** Failed pods per run before its index is marked failed (disruptions do not count). */
  retries: number;
}

export const K8S_DIR = "k8s";
export const MANIFEST_FILE = "sweep.json";

/** The words that start `binaryconnect` in the image (the Dockerfile's layout). */
export const IMAGE_COMMAND = ["node", "/app/dist/src/cli/main.js"];

/** The experiment folder inside the pods: the claim's mount, then the --out folder's name. */
export function podOutDir(o: PlanOptions, k: K8sOptions): string {
  return posix.join(k.mountPath, basename(resolve(o.outDir)));
}

/** A DNS-1123 label for the Job: the dataset, budget and a hash of the experiment folder. */
export function k8sJobName(o: PlanOptions): string {
  const hash = createHash("sha256").update(resolve(o.outDir)).digest("hex").slice(0, 8);
  return `binaryconnect-${o.dataset}-${o.budget}-${hash}`;
}

/** The Indexed Job of the experiment: index i trains the i-th run of the plan (the same plan and commands as the local runner). */
export function indexedJob(o: PlanOptions & TrainSettings, k: K8sOptions): { job: object; plan: RunSpec[] } {
  const plan = planRuns({ ...o, outDir: podOutDir(o, k) });
  const script = [
    "set -u",
    ...taskScript(plan, o, { indexVar: "JOB_COMPLETION_INDEX", command: IMAGE_COMMAND, requeueOnUsr1: false }),
  ].join("\n");
  const cpu = String(k.cpusPerTask);
  const job: Job = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name: k8sJobName(o),
      labels: {
        "app.kubernetes.io/name": "binaryconnect",
        "app.kubernetes.io/component": "reproduce",
        "binaryconnect/dataset": o.dataset,
        "binaryconnect/budget": o.budget,
      },
    },
    spec: {
      completionMode: "Indexed",
      completions: plan.length,
      parallelism: Math.min(k.parallel ?? plan.length, plan.length),
      backoffLimitPerIndex: k.retries,
      // a pod stopped by an eviction or preemption checkpointed (SIGTERM): its replacement resumes it, and it is no failure
      podFailurePolicy: {
        rules: [{ action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] }],
      },
      podReplacementPolicy: "Failed",
      template: {
        metadata: { labels: { "app.kubernetes.io/name": "binaryconnect" } },
        spec: {
          restartPolicy: "Never",
          terminationGracePeriodSeconds: k.gracePeriodSeconds,
          containers: [
            {
              name: "train",
              image: k.image,
              command: ["bash", "-c", script],
              resources: {
                requests: { cpu },
                limits: { cpu, ...(k.gpus ? { "nvidia.com/gpu": String(k.gpus) } : {}) },
              },
              volumeMounts: [{ name: "runs", mountPath: k.mountPath }],
            },
          ],
          volumes: [{ name: "runs", persistentVolumeClaim: { claimName: k.pvc } }],
        },
      },
    },
  };
  return { job, plan };
}

/** Writes DIR/k8s/sweep.json (JSON is YAML: `kubectl apply -f` takes it as it is). */
export function writeIndexedJob(o: PlanOptions & TrainSettings, k: K8sOptions): { path: string; plan: RunSpec[] } {
  const dir = join(o.outDir, K8S_DIR);
  mkdirSync(dir, { recursive: true });
  const { job, plan } = indexedJob(o, k);
  const path = join(dir, MANIFEST_FILE);
  writeFileAtomic(path, new TextEncoder().encode(`${JSON.stringify(job, null, 2)}\n`));
  return { path, plan };
}
