/**
 * The package as a user gets it: `npm pack` of this repository (the built dist/, which `npm test`
 * builds first; package.json's "files" decide what ships), installed into a new project with
 * `npm install --offline`, then used from there: every entry of its "exports" imported by an ES
 * module (and under the "browser" condition where one is declared), a TypeScript program
 * type-checked against the shipped declarations (a Node.js project and a bundled web page), and
 * examples/mnist-mlp.mjs run against the installed copy.
 *
 * Offline install: the npm cache holds the tarballs of this repository's dependencies (by their
 * integrity) but not the registry's metadata, so npm cannot resolve version ranges offline. The
 * new project therefore gets a lockfile, as a consumer's project has one: for each package the
 * tarball's package.json depends on (dependencies, optionalDependencies, required peers, and
 * theirs), the exact version and integrity this repository's package-lock.json pins. npm then
 * installs the tarball and those versions from the cache; a dependency missing from the lock is
 * an error that names it.
 */
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { words } from "./cli-helpers.js";

const ROOT = new URL("..", import.meta.url).pathname;
const run = promisify(execFile);

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [key: string]: unknown;
}
interface PackageJson extends LockEntry {
  name: string;
  version: string;
  license?: string;
  exports: Record<string, string | Record<string, string>>;
  files?: string[];
}

/** The environment for child processes: without the npm_* variables of an `npm test` around us (they would point npm at this repository). */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout } = await run("npm", args, { cwd, env: cleanEnv(), maxBuffer: 64 << 20 });
  return stdout;
}

async function node(args: string[], cwd: string, env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run(process.execPath, args, { cwd, env: cleanEnv(env), maxBuffer: 16 << 20 });
  return stdout;
}

/**
 * The lock entries ("node_modules/...": entry) of `roots` and everything they need, as this
 * repository's lock resolves them (Node's lookup: the nearest node_modules folder up the path).
 */
function lockClosure(
  lock: Record<string, LockEntry>,
  roots: Record<string, "required" | "optional">,
  flag?: "dev",
): Record<string, LockEntry> {
  const out: Record<string, LockEntry> = {};
  const need = (from: string, name: string, optional: boolean) => {
    for (let base = from; ; base = base.slice(0, Math.max(0, base.lastIndexOf("/node_modules/")))) {
      const path = `${base ? `${base}/` : ""}node_modules/${name}`;
      if (lock[path]) return visit(path);
      if (!base) {
        if (optional) return;
        throw new Error(
          `${name} (needed by ${from || "binaryconnect"}) is not in package-lock.json: run npm install in the repository`,
        );
      }
    }
  };
  const visit = (path: string) => {
    if (out[path]) return;
    const { dev: _d, devOptional: _o, optional: _p, peer: _q, ...entry } = lock[path];
    out[path] = flag ? { ...entry, [flag]: true } : entry;
    for (const n of Object.keys(entry.dependencies ?? {})) need(path, n, false);
    for (const n of Object.keys(entry.optionalDependencies ?? {})) need(path, n, true);
    for (const n of Object.keys(entry.peerDependencies ?? {}))
      need(path, n, entry.peerDependenciesMeta?.[n]?.optional === true);
  };
  for (const [name, kind] of Object.entries(roots)) need("", name, kind === "optional");
  return out;
}

/** The fields of the tarball's package.json that its lockfile entry repeats after name, version, resolved and integrity (as npm writes them). */
const LOCKED_FIELDS = [
  "license",
  "dependencies",
  "optionalDependencies",
  "peerDependencies",
  "peerDependenciesMeta",
  "bin",
  "engines",
] as const;

const rootsOf = (p: LockEntry): Record<string, "required" | "optional"> => ({
  ...Object.fromEntries(Object.keys(p.dependencies ?? {}).map((n) => [n, "required" as const])),
  ...Object.fromEntries(Object.keys(p.optionalDependencies ?? {}).map((n) => [n, "optional" as const])),
  ...Object.fromEntries(
    Object.entries(p.peerDependencies ?? {})
      .filter(([n]) => !p.peerDependenciesMeta?.[n]?.optional)
      .map(([n]) => [n, "required" as const]),
  ),
});

/** What the consumer project's ES module checks for each entry of the package's exports. */
const ENTRY_USES: Record<string, string> = {
  ".": "bc.sequential, fit, evaluate, exportBcnet",
  "./infer": "BinaryClassifier.load, predict",
  "./package.json": "the version",
};

const CONSUMER_MJS = `
import * as bc from "binaryconnect";
import { BinaryClassifier } from "binaryconnect/infer";
const { default: pkg } = await import("binaryconnect/package.json", { with: { type: "json" } });

// 2 classes of 4 values 0..255: class 0 high in the first two, class 1 in the last two
const n = 200, x = new Float32Array(n * 4), y = new Int32Array(n);
for (let i = 0; i < n; i++) {
  y[i] = i % 2;
  for (let f = 0; f < 4; f++) x[i * 4 + f] = ((f < 2) === (y[i] === 0) ? 150 : 0) + ((i * 37 + f * 11) % 100);
}
const data = bc.data.fromArrays({ x, y, shape: [4], classes: 2 });
const model = bc.sequential({ inputShape: [4], backend: "reference", layers: [
  bc.layers.dense({ units: 64 }), bc.layers.batchNorm(), bc.layers.relu(), bc.layers.dense({ units: 2 }), bc.layers.batchNorm()] });
await model.fit(data, { epochs: 4, batchSize: 10, preprocess: [bc.preprocess.scale(1 / 255), bc.preprocess.subtractMean()] });
const { error } = await model.evaluate(data);
const mine = await model.predict(data);
const net = await BinaryClassifier.load(await model.exportBcnet());
const theirs = net.predict(x, n);
let agree = 0;
for (let i = 0; i < n; i++) if (mine.labels[i] === theirs.labels[i]) agree++;
let saved;
try { saved = await model.save(process.env.MODEL_FILE); } catch (e) { saved = e.name + ": " + e.message.split("\\n")[0]; }
console.log(JSON.stringify({ version: pkg.version, error, agree, n, engine: net.engine, fileLoaders: typeof bc.data.loadMnist, fromArrays: typeof bc.data.fromArrays, saved }));
`;

const CONSUMER_TS = `
import * as bc from "binaryconnect";
import { BinaryClassifier, type Prediction as InferPrediction } from "binaryconnect/infer";

const layers: bc.LayerSpec[] = [bc.layers.dense({ units: 8 }), bc.layers.batchNorm(), bc.layers.relu(), bc.layers.dense({ units: 2, binarize: "det", H: 1 }), bc.layers.batchNorm()];
const model: bc.Model = bc.sequential({ inputShape: [4], backend: "wasm", seed: 2, layers });
const cnn: bc.Model = bc.fromArchitecture("(2x8C3)-MP2-32FC-10", { inputShape: [16, 16, 3], binarize: "stoch" });
const data: bc.Dataset = bc.data.fromArrays({ x: new Float32Array(40), y: new Int32Array(10), shape: [4], classes: 2 });
const options: bc.FitOptions = {
  epochs: 2, batchSize: 5, validation: 0.2, lr: { start: 3e-3, end: 3e-6 }, schedule: "cosine", testTime: "ensemble:4",
  preprocess: [bc.preprocess.scale(1 / 255), bc.preprocess.gcn({ scale: 55 })],
  earlyStopping: { patience: 3, restoreBest: true }, signal: new AbortController().signal,
  callbacks: { onEpochEnd: (epoch: number, logs: bc.EpochRecord) => console.log(epoch, logs.val_error, logs.lr) },
};
const history: bc.History = await model.fit(data, options);
const best: number = history.best.valError;
const evaluated: { loss: number; error: number; accuracy: number } = await model.evaluate(data, { testTime: "binary" });
const p: bc.Prediction = await model.predict(new Float32Array(8));
const labels: Int32Array = p.labels;
const summary: bc.ModelSummary = cnn.summary();
const bytes: Uint8Array = await model.toBytes({ includeOptimizer: false });
const again: bc.Model = await bc.loadModel(bytes);
const net = await BinaryClassifier.load(await model.exportBcnet());
const q: InferPrediction = net.predict(new Float32Array(4));
const onnx: Uint8Array = await model.exportOnnx();
console.log(best, evaluated.accuracy, labels.length, summary.params, again.classes, q.labels[0], onnx.length);
try {
  bc.layers.dense({ units: 0 });
} catch (e) {
  if (e instanceof bc.OptionError) console.log(e.message);
}
// @ts-expect-error a misspelled option is a type error
bc.layers.dense({ units: 3, binarise: "det" });
// @ts-expect-error fit takes a Dataset
await model.fit([1, 2, 3]);
// @ts-expect-error predict's test-time weights are "binary" or "real"
await model.predict(data, { testTime: "ensemble:3" });
`;

const TSCONFIG = {
  /** A Node.js project: Node's ESM resolution, @types/node. */
  node: { module: "node16", moduleResolution: "node16", lib: ["ES2022"], types: ["node"] },
  /** A web page built by a bundler: the DOM's types, no Node.js types. */
  web: { module: "preserve", moduleResolution: "bundler", lib: ["ES2022", "DOM"], types: [] },
  /** The same under the exports' "browser" condition (a bundler for web pages): the web-page build's declarations. */
  browser: {
    module: "preserve",
    moduleResolution: "bundler",
    customConditions: ["browser"],
    lib: ["ES2022", "DOM"],
    types: [],
  },
};

/** Under the "browser" condition the types are the web-page build's: its file loaders are type errors, not run-time ones. */
const BROWSER_TS = `
// @ts-expect-error the web-page build has no file loaders
await bc.data.loadMnist();
const fromFiles: bc.Dataset = await bc.data.imageDataset([], { shape: [4, 4, 3] });
console.log(fromFiles.n);
`;

/**
 * Errors tsc may report in the shipped declarations themselves (skipLibCheck off). None are
 * tolerated: the declarations must type-check for a Node.js project (no DOM library) and for a
 * web project (no Node.js types) alike - e.g. no WebAssembly or NodeJS namespace in a signature.
 */
const KNOWN_DECLARATION_ERRORS: Record<keyof typeof TSCONFIG, string[]> = { node: [], web: [], browser: [] };

let app = "",
  packed: PackageJson,
  shipped: string[] = [];

beforeAll(async () => {
  if (!existsSync(join(ROOT, "dist/src/index.js")))
    throw new Error("dist/ is not built: run npm run build (npm test does) before these tests");
  const dir = mkdtempSync(join(tmpdir(), "bc-consumer-"));
  const [info] = JSON.parse(await npm(["pack", "--ignore-scripts", "--json", "--pack-destination", dir], ROOT)) as {
    filename: string;
    files: { path: string }[];
  }[];
  shipped = info.files.map((f) => f.path);
  packed = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as PackageJson;
  const tarball = join(dir, info.filename);
  const integrity = `sha512-${createHash("sha512").update(readFileSync(tarball)).digest("base64")}`;

  app = join(dir, "app");
  mkdirSync(app);
  const repoLock = (
    JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, LockEntry> }
  ).packages;
  const typesNode = repoLock["node_modules/@types/node"]?.version;
  if (!typesNode) throw new Error("@types/node is not in package-lock.json");
  const spec = `file:../${info.filename}`;
  writeFileSync(
    join(app, "package.json"),
    JSON.stringify(
      {
        name: "consumer",
        private: true,
        type: "module",
        dependencies: { binaryconnect: spec },
        devDependencies: { "@types/node": typesNode },
      },
      null,
      2,
    ),
  );
  writeFileSync(
    join(app, "package-lock.json"),
    JSON.stringify(
      {
        name: "consumer",
        lockfileVersion: 3,
        requires: true,
        packages: {
          "": {
            name: "consumer",
            dependencies: { binaryconnect: spec },
            devDependencies: { "@types/node": typesNode },
          },
          "node_modules/binaryconnect": {
            name: packed.name,
            version: packed.version,
            resolved: spec,
            integrity,
            ...Object.fromEntries(LOCKED_FIELDS.map((k) => [k, packed[k]])),
          },
          ...lockClosure(repoLock, rootsOf(packed)),
          ...lockClosure(repoLock, { "@types/node": "required" }, "dev"),
        },
      },
      null,
      2,
    ),
  );
  await npm(["install", "--offline", "--no-audit", "--no-fund", tarball], app);
}, 180_000);

describe("the packed package, installed in a new project", () => {
  it("ships the built entries with their types and the docs; no tests, no TypeScript sources, no benchmarks", () => {
    for (const f of words(
      "package.json README.md docs/API.md dist/src/index.js dist/src/index.d.ts dist/src/browser.js dist/src/browser.d.ts dist/src/infer/index.js dist/src/infer/index.d.ts dist/src/cli/main.js",
    )) {
      expect(shipped, f).toContain(f);
    }
    expect(shipped.filter((f) => /\.test\.|^src\/|^test\/|^bench\/|^dist\/bench\/|^examples\//.test(f))).toEqual([]);
    // every file an export names, through nested conditions ({ browser: { types, default } })
    const files = (t: unknown): string[] =>
      typeof t === "string" ? [t] : Object.values(t as Record<string, unknown>).flatMap(files);
    const targets = Object.values(packed.exports).flatMap(files);
    expect(targets).toContain("./dist/src/browser.d.ts");
    for (const t of targets) expect(existsSync(join(app, "node_modules/binaryconnect", t)), t).toBe(true);
  });

  it("an ES module imports every entry of the exports and uses it: trains, exports .bcnet, runs it with binaryconnect/infer", async () => {
    expect(
      Object.keys(packed.exports).sort(),
      "a new entry in package.json's exports: add its use to CONSUMER_MJS and ENTRY_USES",
    ).toEqual(Object.keys(ENTRY_USES).sort());
    writeFileSync(join(app, "consumer.mjs"), CONSUMER_MJS);
    const out = JSON.parse(await node(["consumer.mjs"], app, { MODEL_FILE: join(app, "toy.bcmodel") })) as Record<
      string,
      unknown
    >;
    expect(out).toMatchObject({
      version: packed.version,
      n: 200,
      agree: 200,
      fileLoaders: "function",
      fromArrays: "function",
      saved: join(app, "toy.bcmodel"),
    });
    expect(out.error).toBeLessThan(0.1);
    expect(statSync(join(app, "toy.bcmodel")).size).toBeGreaterThan(0);
  });

  it('under the "browser" condition of the exports the same module gets the web-page build: no file loaders, no file paths', async (ctx) => {
    const browser = Object.entries(packed.exports).filter(([, t]) => typeof t === "object" && "browser" in t);
    if (browser.length === 0) ctx.skip();
    expect(browser.map(([k]) => k)).toEqual(["."]);
    writeFileSync(join(app, "consumer.mjs"), CONSUMER_MJS);
    const out = JSON.parse(
      await node(["--conditions=browser", "consumer.mjs"], app, { MODEL_FILE: "toy.bcmodel" }),
    ) as Record<string, unknown>;
    expect(out).toMatchObject({ n: 200, agree: 200, fileLoaders: "undefined", fromArrays: "function" });
    expect(out.saved).toMatch(/^UsageError: save: "toy.bcmodel" is a file path, which needs Node.js/);
  });

  it.each(Object.keys(TSCONFIG) as (keyof typeof TSCONFIG)[])(
    "a TypeScript program type-checks against the shipped declarations (%s project, strict, skipLibCheck off)",
    async (kind) => {
      writeFileSync(join(app, "consumer.ts"), kind === "browser" ? CONSUMER_TS + BROWSER_TS : CONSUMER_TS);
      const config = join(app, `tsconfig.${kind}.json`);
      writeFileSync(
        config,
        JSON.stringify({
          compilerOptions: { target: "ES2022", strict: true, noEmit: true, skipLibCheck: false, ...TSCONFIG[kind] },
          files: ["consumer.ts"],
        }),
      );
      const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
      const stdout = await node([tsc, "-p", config], app).catch((e: { stdout?: string }) => e.stdout ?? String(e));
      const errors = stdout
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => l.replace(/\(\d+,\d+\)/, ""));
      expect(
        errors.filter((e) => !e.startsWith("node_modules/")),
        "errors in the consumer's program",
      ).toEqual([]);
      const unknown = errors.filter(
        (e) => e.startsWith("node_modules/") && !KNOWN_DECLARATION_ERRORS[kind].includes(e),
      );
      expect(unknown, "errors in the shipped declarations (see KNOWN_DECLARATION_ERRORS)").toEqual([]);
    },
  );

  it("examples/mnist-mlp.mjs runs against the installed package", async () => {
    copyFileSync(join(ROOT, "examples/mnist-mlp.mjs"), join(app, "mnist-mlp.mjs"));
    const out = await node(["mnist-mlp.mjs"], app, {
      TRAIN_IMAGES: "3000",
      TEST_IMAGES: "2000",
      UNITS: "256",
      EPOCHS: "2",
      BACKEND: "wasm",
    });
    const error = Number(/test error (\d+\.\d+) %/.exec(out)?.[1]);
    expect(error).toBeLessThan(25);
    expect(out).toContain("saved runs/mnist-mlp.bcmodel");
    expect(existsSync(join(app, "runs/mnist-mlp.bcmodel"))).toBe(true);
  });
});
