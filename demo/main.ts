/**
 * The browser demo: draw a digit, see the 1-bit MLP's prediction and per-class scores live,
 * the model file's size next to its float32 size, and the inference time. The network runs in
 * binaryconnect/infer (src/infer): the .bcnet file is fetched from ./mnist-mlp.bcnet.
 */
import { BinaryClassifier, architecture, float32Bytes } from "../src/infer/index.js";
import { setupDrawingPad } from "../examples/browser/drawingPad.js";
import { mnistLike } from "./preprocess.js";

const MODEL_URL = "./mnist-mlp.bcnet";
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const pad = $<HTMLCanvasElement>("pad"),
  seen = $<HTMLCanvasElement>("seen");
const ctx = pad.getContext("2d", { willReadFrequently: true })!;
const mib = (b: number) => `${(b / 1048576).toFixed(3)} MiB`;

async function main(): Promise<void> {
  const bytes = new Uint8Array(await (await fetch(MODEL_URL)).arrayBuffer());
  const net = await BinaryClassifier.load(bytes);
  const f32 = float32Bytes(net.model);
  $("size").textContent =
    `${bytes.length.toLocaleString("en-US")} bytes (${mib(bytes.length)}), ${architecture(net.model)}`;
  $("float").textContent = `${mib(f32)} as float32: ${(f32 / bytes.length).toFixed(1)}x larger`;
  const info = net.model.info as { preset?: string; mode?: string; epoch?: number; testError?: number };
  $("provenance").textContent =
    `Trained with binaryconnect (${info.preset ?? "?"}, ${info.mode ?? "?"}, best epoch ${info.epoch ?? "?"}; ` +
    `test error ${info.testError === undefined ? "?" : `${(100 * info.testError).toFixed(2)}%`}). Engine: ${net.engine === "wasm" ? "WebAssembly SIMD, 1-bit lookup tables" : "plain JavaScript"}.`;
  clear();
  setupDrawingPad(pad, { lineWidth: 22, onStroke: () => schedule(net) });
  $("clear").addEventListener("click", () => {
    clear();
    showScores(null);
  });
  document.body.dataset.ready = "1";
}

function clear(): void {
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, pad.width, pad.height);
  seen.getContext("2d")!.clearRect(0, 0, 28, 28);
  $("label").textContent = "?";
  delete $("label").dataset.label;
}

let pending = false;
function schedule(net: BinaryClassifier): void {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    predict(net);
  });
}

function predict(net: BinaryClassifier): void {
  const rgba = ctx.getImageData(0, 0, pad.width, pad.height).data;
  const gray = new Uint8ClampedArray(pad.width * pad.height);
  for (let i = 0; i < gray.length; i++) gray[i] = rgba[4 * i];
  const pixels = mnistLike(gray, pad.width);
  if (!pixels) {
    showScores(null);
    return;
  }
  drawSeen(pixels);
  const t0 = performance.now();
  const p = net.predict(pixels, 1);
  const ms = performance.now() - t0;
  $("time").textContent =
    `${ms.toFixed(2)} ms for this drawing (${(1000 / Math.max(ms, 1e-3)).toFixed(0)} images/s), in your browser`;
  showScores(p.scores, p.labels[0]);
}

function drawSeen(pixels: Float32Array): void {
  const img = new ImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = pixels[i];
    img.data[4 * i + 3] = 255;
  }
  seen.getContext("2d")!.putImageData(img, 0, 0);
}

function showScores(scores: Float32Array | null, label = -1): void {
  const bars = $("bars");
  bars.replaceChildren();
  if (!scores) return;
  $("label").textContent = String(label);
  $("label").dataset.label = String(label);
  const lo = Math.min(...scores),
    hi = Math.max(...scores);
  scores.forEach((s, k) => {
    const row = document.createElement("div");
    row.className = k === label ? "bar best" : "bar";
    row.innerHTML = `<span class="d">${k}</span><span class="track"><span class="fill" style="width:${(100 * (s - lo)) / Math.max(hi - lo, 1e-6)}%;display:block"></span></span><span class="v">${s.toFixed(2)}</span>`;
    bars.append(row);
  });
}

main().catch((e: unknown) => {
  $("size").textContent = `could not load the model: ${e instanceof Error ? e.message : String(e)}`;
  document.body.dataset.error = String(e);
});
