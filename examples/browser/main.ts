/**
 * Trains a BinaryConnect MLP on a few thousand MNIST digits in the page, draws its learning
 * curve as it goes, predicts digits drawn with the mouse or a finger, and saves the model to
 * IndexedDB and loads it back - with the library's API only.
 *
 * URL parameters set the form's first values: ?train=1000&epochs=2&batch=50&backend=webgpu.
 */
import * as bc from "../../src/browser.js"; // in an application: import * as bc from "binaryconnect";
import { setupDrawingPad } from "./drawingPad.js";

const MODEL_URL = "indexeddb://mnist-mlp";
const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const pad = $<HTMLCanvasElement>("pad");
const ctx = pad.getContext("2d", { willReadFrequently: true })!;

let mnist: { train: { x: Uint8Array; y: Uint8Array; n: number }; test: bc.Dataset };
let model: bc.Model | undefined;
let busy = false;

/** For tests and the console: paints MNIST test image `index` on the pad and predicts it. */
export interface ExampleHooks {
  showTestDigit(index?: number): Promise<void>;
}
declare global {
  interface Window {
    example: ExampleHooks;
  }
}

// --- Data: the sample file the Vite config makes (see vite.config.ts for its layout) ---

/** The training images as bytes (each run makes a dataset of the first N), the test images as a dataset. */
async function loadSample(): Promise<typeof mnist> {
  const response = await fetch("./mnist-sample.bin");
  if (!response.ok) throw new Error(`./mnist-sample.bin: HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const view = new DataView(bytes.buffer);
  let at = 8;
  const part = (n: number) => {
    const x = bytes.subarray(at, at + n * 784),
      y = bytes.subarray(at + n * 784, at + n * 785);
    at += n * 785;
    return { x, y, n };
  };
  const train = part(view.getUint32(0, true)),
    test = part(view.getUint32(4, true));
  return { train, test: bc.data.fromArrays({ x: test.x, y: test.y, shape: [784], classes: 10 }) };
}

// --- Training ---

function newModel(backend: "wasm" | "webgpu"): bc.Model {
  return bc.sequential({
    inputShape: [784],
    binarize: "det", // every dense layer's weights are sign(w) in the forward and backward passes
    backend,
    layers: [
      bc.layers.dense({ units: 256 }),
      bc.layers.batchNorm(),
      bc.layers.relu(),
      bc.layers.dense({ units: 256 }),
      bc.layers.batchNorm(),
      bc.layers.relu(),
      bc.layers.dense({ units: 10 }),
      bc.layers.batchNorm(),
    ],
  });
}

async function train(): Promise<void> {
  const count = Math.min(numberIn("train-count"), mnist.train.n),
    epochs = numberIn("epochs"),
    batchSize = numberIn("batch");
  await model?.dispose();
  storage("");
  model = newModel(backendChoice());
  const on = (await model.backend()).description;
  status(`training on ${count} images (${on})...`);
  const history: bc.EpochRecord[] = [];
  drawCurve(history, epochs);
  // the first `count` images, raw pixels 0..255 (fromArrays copies them into a Float32Array)
  const images = bc.data.fromArrays({
    x: mnist.train.x.subarray(0, count * 784),
    y: mnist.train.y.subarray(0, count),
    shape: [784],
    classes: 10,
  });
  await model.fit(images, {
    epochs,
    batchSize,
    validation: 0.1, // the last tenth of the images
    preprocess: [bc.preprocess.scale(1 / 255), bc.preprocess.subtractMean()], // fitted on the training images, kept with the model
    callbacks: {
      onEpochEnd: async (epoch, logs) => {
        history.push(logs);
        drawCurve(history, epochs);
        status(`epoch ${epoch} of ${epochs}: validation error ${percent(logs.val_error)} (${on})`);
        await new Promise((resolve) => setTimeout(resolve)); // let the page repaint
      },
    },
  });
  const test = await model.evaluate(mnist.test);
  status(
    `trained: validation error ${percent(history.at(-1)!.val_error)}, test error ${percent(test.error)} ` +
      `on ${mnist.test.n} MNIST test images (${on})`,
  );
}

/** The learning curve: training and validation error per epoch, as inline SVG. */
function drawCurve(history: bc.EpochRecord[], epochs: number): void {
  const W = 380,
    H = 220,
    left = 46,
    right = 12,
    top = 24,
    bottom = 30;
  const yMax = Math.ceil(10 * Math.max(0.1, ...history.flatMap((r) => [r.train_error, r.val_error]))) / 10;
  const x = (epoch: number) => left + ((epoch - 1) / Math.max(1, epochs - 1)) * (W - left - right);
  const y = (error: number) => top + (1 - error / yMax) * (H - top - bottom);
  const svg: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    svg.push(
      `<line x1="${left}" x2="${W - right}" y1="${y(v)}" y2="${y(v)}" stroke="#e3e6ea"/>`,
      `<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${(100 * v).toFixed(1)} %</text>`,
    );
  }
  const every = Math.ceil(epochs / 10);
  for (let e = 1; e <= epochs; e += every)
    svg.push(`<text x="${x(e)}" y="${H - bottom + 16}" text-anchor="middle">${e}</text>`);
  svg.push(`<text x="${W - right}" y="${H - 2}" text-anchor="end">epoch</text>`);
  const series = [
    ["train_error", "#7a8aa0", "training"],
    ["val_error", "#1f6feb", "validation"],
  ] as const;
  series.forEach(([key, color, name], i) => {
    const points = history.map((r) => [x(r.epoch), y(r[key])]);
    svg.push(
      `<polyline class="${key}" fill="none" stroke="${color}" stroke-width="2" points="${points.map((p) => p.join(",")).join(" ")}"/>`,
    );
    for (const [cx, cy] of points) svg.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${color}"/>`);
    svg.push(`<text x="${left + 8 + 110 * i}" y="14" fill="${color}">&#9679; ${name} error</text>`);
  });
  const curve = $("curve");
  curve.innerHTML = svg.join("");
  curve.setAttribute("font-size", "11");
  curve.dataset.points = String(history.length);
  $("log").textContent = history
    .map(
      (r) =>
        `epoch ${String(r.epoch).padStart(2)}  train ${percent(r.train_error).padStart(7)}  validation ${percent(r.val_error).padStart(7)}  ${r.seconds.toFixed(1)} s`,
    )
    .join("\n");
}

// --- Drawing and prediction ---

function clearPad(): void {
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, pad.width, pad.height);
  $("truth").textContent = "Draw inside the dashed box.";
  void predictDrawing();
}

/**
 * The drawing as the network's input: 28 x 28 gray values 0..255, each the mean of a 10 x 10
 * block of the pad, shifted so that the ink's centre of mass is at the centre (as MNIST's
 * digits are). Null when nothing is drawn.
 */
function drawingPixels(): Float32Array | null {
  const rgba = ctx.getImageData(0, 0, 280, 280).data;
  const sums = new Float32Array(784);
  for (let y = 0; y < 280; y++)
    for (let x = 0; x < 280; x++) sums[Math.floor(y / 10) * 28 + Math.floor(x / 10)] += rgba[(y * 280 + x) * 4];
  let mass = 0,
    cx = 0,
    cy = 0;
  sums.forEach((v, i) => {
    mass += v;
    cx += v * (i % 28);
    cy += v * Math.floor(i / 28);
  });
  if (mass === 0) return null;
  const dx = Math.round(14 - cx / mass),
    dy = Math.round(14 - cy / mass);
  const pixels = new Float32Array(784);
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const sx = x - dx,
        sy = y - dy;
      if (sx >= 0 && sx < 28 && sy >= 0 && sy < 28) pixels[y * 28 + x] = sums[sy * 28 + sx] / 100;
    }
  }
  return pixels;
}

async function predictDrawing(): Promise<void> {
  const pixels = drawingPixels();
  const seen = $<HTMLCanvasElement>("seen").getContext("2d")!;
  const image = seen.createImageData(28, 28);
  pixels?.forEach((v, i) => {
    image.data.set([v, v, v, 255], 4 * i);
  });
  seen.putImageData(image, 0, 0);
  if (!pixels || !model?.training || busy) return showPrediction(null);
  const { labels, scores } = await model.predict(pixels); // raw pixels: the model applies its preprocessing
  showPrediction(labels[0], scores);
}

function showPrediction(label: number | null, scores?: Float32Array): void {
  const out = $("label");
  out.textContent = label === null ? "?" : String(label);
  if (label === null || !scores) {
    delete out.dataset.label;
    delete out.dataset.scores;
    $("bars").textContent = model?.training ? "" : "Train a model (or load one) to read drawings.";
    return;
  }
  out.dataset.label = String(label);
  out.dataset.scores = JSON.stringify(Array.from(scores));
  const lo = Math.min(...scores),
    hi = Math.max(...scores);
  $("bars").innerHTML = Array.from(
    scores,
    (s, k) =>
      `<div class="bar${k === label ? " best" : ""}"><b>${k}</b><span class="track"><span class="fill" style="display:block;width:${(100 * (s - lo)) / (hi - lo || 1)}%"></span></span>${s.toFixed(2)}</div>`,
  ).join("");
}

/** Paints MNIST test image `index` (28 x 28, each pixel a 10 x 10 square) on the pad and predicts it. */
async function showTestDigit(index = Math.floor(Math.random() * mnist.test.n)): Promise<void> {
  for (let i = 0; i < 784; i++) {
    const v = mnist.test.x[index * 784 + i];
    ctx.fillStyle = `rgb(${v},${v},${v})`;
    ctx.fillRect((i % 28) * 10, Math.floor(i / 28) * 10, 10, 10);
  }
  const label = mnist.test.y[index];
  $("truth").textContent = `MNIST test image #${index}, a ${label}.`;
  $("truth").dataset.label = String(label);
  await predictDrawing();
}

// --- Saving and loading ---

async function save(): Promise<void> {
  if (!model?.training) throw new Error("train a model first");
  storage(`saved to ${await model.save(MODEL_URL)}`);
}

async function load(): Promise<void> {
  const loaded = await bc.loadModel(MODEL_URL, { backend: backendChoice() });
  await model?.dispose();
  model = loaded;
  const { history, config, epochsDone } = loaded.training!;
  drawCurve(history, config.epochs);
  storage(`loaded ${MODEL_URL}: ${epochsDone} epochs, validation error ${percent(history.at(-1)!.val_error)}`);
}

// --- The page ---

const percent = (v: number) => `${(100 * v).toFixed(2)} %`;
const numberIn = (id: string) => Math.max(1, Math.floor(Number($<HTMLInputElement>(id).value)));
const backendChoice = () => $<HTMLSelectElement>("backend").value as "wasm" | "webgpu";
const status = (text: string) => ($("status").textContent = text);
const storage = (text: string) => ($("storage").textContent = text);

const enableButtons = (on: boolean) => {
  for (const b of Array.from(document.querySelectorAll("button"))) b.disabled = !on;
};

/** A button's task: the buttons are disabled while it runs, then the drawing is predicted again; `body[data-state]` says how it ended. */
function task(fn: () => Promise<void>, done: string, report: (text: string) => void): () => Promise<void> {
  return async () => {
    busy = true;
    enableButtons(false);
    document.body.dataset.state = "busy";
    try {
      await fn();
      document.body.dataset.state = done;
    } catch (e) {
      report(`error: ${e instanceof Error ? e.message : String(e)}`);
      document.body.dataset.state = "error";
    } finally {
      busy = false;
      enableButtons(true);
      await predictDrawing();
    }
  };
}

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  $<HTMLInputElement>("train-count").value = params.get("train") ?? "3000";
  $<HTMLInputElement>("epochs").value = params.get("epochs") ?? "10";
  $<HTMLInputElement>("batch").value = params.get("batch") ?? "100";
  const webgpu = $("backend").querySelector<HTMLOptionElement>("option[value=webgpu]")!;
  if (!("gpu" in navigator)) Object.assign(webgpu, { disabled: true, textContent: "webgpu (not in this browser)" });
  $<HTMLSelectElement>("backend").value = params.get("backend") ?? "wasm";
  enableButtons(false);
  drawCurve([], numberIn("epochs"));
  setupDrawingPad(pad, { lineWidth: 20, onLift: () => void predictDrawing() });
  clearPad();
  $("clear").addEventListener("click", clearPad);
  $("sample").addEventListener("click", () => void showTestDigit());
  $("train").addEventListener("click", task(train, "trained", status));
  $("save").addEventListener("click", task(save, "saved", storage));
  $("load").addEventListener("click", task(load, "loaded", storage));
  window.example = { showTestDigit };
  mnist = await loadSample();
  enableButtons(true);
  $<HTMLInputElement>("train-count").max = String(mnist.train.n);
  status(`${mnist.train.n} training and ${mnist.test.n} test images loaded; press Train.`);
  document.body.dataset.ready = "1";
}

main().catch((e: Error) => status(`error: ${e.message}`));
