import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { encode as encodePng, type ImageData } from "fast-png";
import { encode as encodeJpeg } from "jpeg-js";
import { describe, expect, it } from "vitest";
import { OptionError, StorageError } from "../src/core/errors.js";
import { decodeImage, imageDataset } from "../src/data/image.js";
import { loadImageFolder } from "../src/data/imageFolder.js";

const tmp = () => mkdtempSync(join(tmpdir(), "bc-images-"));

/** Writes files (relative path -> bytes) under a new temporary folder; returns the folder. */
function folder(files: Record<string, Uint8Array | string>): string {
  const dir = tmp();
  for (const [rel, bytes] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), bytes);
  }
  return dir;
}

const png = (img: ImageData): Uint8Array => encodePng(img);
/** A width x height PNG of one colour (channels = the colour's length: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA). */
const uniformPng = (width: number, height: number, colour: number[], depth: 8 | 16 = 8): Uint8Array => {
  const data =
    depth === 16 ? new Uint16Array(width * height * colour.length) : new Uint8Array(width * height * colour.length);
  for (let i = 0; i < data.length; i++) data[i] = colour[i % colour.length];
  return png({ width, height, data, channels: colour.length, depth });
};
/** A width x height JPEG of one RGB colour (quality 100). */
const uniformJpeg = (width: number, height: number, [r, g, b]: number[]): Uint8Array => {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([r, g, b, 255], 4 * i);
  return new Uint8Array(encodeJpeg({ width, height, data }, 100).data);
};

/** Every pixel of every example of x (n x H x W x C) equals `colour` within `tol`. */
function expectUniform(x: Float32Array, colour: number[], tol = 0): void {
  const C = colour.length;
  for (let i = 0; i < x.length; i++)
    expect(Math.abs(x[i] - colour[i % C]), `value ${i}: ${x[i]} vs ${colour[i % C]}`).toBeLessThanOrEqual(tol);
}

describe("loadImageFolder", () => {
  it("reads one class per sub-folder (sorted), PNG and JPEG of any size and colour type, skipping other files", async () => {
    const dir = folder({
      "dog/b.jpg": uniformJpeg(8, 8, [10, 200, 30]),
      "dog/a.png": uniformPng(2, 2, [10, 200, 30, 255]), // RGBA, opaque
      "dog/notes.txt": "not an image",
      "cat/z.PNG": uniformPng(4, 4, [10, 200, 30]), // RGB, already 4 x 4
      "cat/y.png": uniformPng(3, 5, [10 * 257, 200 * 257, 30 * 257], 16), // 16-bit RGB, resized
      "README.md": "top-level file",
    });
    const d = await loadImageFolder(dir, { shape: [4, 4, 3] });
    expect(d.classNames).toEqual(["cat", "dog"]);
    expect(d.classes).toBe(2);
    expect(d.files).toEqual(["cat/y.png", "cat/z.PNG", "dog/a.png", "dog/b.jpg"]);
    expect(Array.from(d.y)).toEqual([0, 0, 1, 1]);
    expect([d.n, d.features, d.shape, d.skipped, d.preprocessed]).toEqual([4, 48, [4, 4, 3], 2, undefined]);
    expect(d.x.length).toBe(4 * 48);
    expectUniform(d.x.subarray(0, 3 * 48), [10, 200, 30]); // the PNGs: exact
    expectUniform(d.x.subarray(3 * 48), [10, 200, 30], 3); // the JPEG: lossy, close
  });

  it("converts to one channel by luminance (0.299 R + 0.587 G + 0.114 B), alpha composited over black", async () => {
    const dir = folder({
      "a/red.png": uniformPng(2, 2, [255, 0, 0]),
      "a/half.png": uniformPng(2, 2, [200, 100, 0, 128]), // RGBA, alpha 128/255
      "b/gray.png": uniformPng(2, 2, [90, 255]), // gray + alpha
      "b/rgb.jpg": uniformJpeg(8, 8, [10, 200, 30]),
    });
    const d = await loadImageFolder(dir, { shape: [2, 2, 1] });
    const first = (i: number) => d.x[i * 4];
    expect(d.files).toEqual(["a/half.png", "a/red.png", "b/gray.png", "b/rgb.jpg"]);
    expect(first(0)).toBe(Math.round(255 * ((0.299 * 200) / 255 + (0.587 * 100) / 255) * (128 / 255))); // 66
    expect(first(1)).toBe(76); // round(255 * 0.299)
    expect(first(2)).toBe(90);
    expect(Math.abs(first(3) - 124)).toBeLessThanOrEqual(3); // round(0.299 * 10 + 0.587 * 200 + 0.114 * 30)
    expectUniform(d.x.subarray(4, 8), [76]);
  });

  it("resizes bilinearly with half-pixel centres: a 2x upscale of a known image", async () => {
    const img = png({ width: 2, height: 2, data: Uint8Array.from([0, 100, 200, 40]), channels: 1, depth: 8 });
    const d = await loadImageFolder(folder({ "k/img.png": img }), { shape: [4, 4, 1] });
    expect(Array.from(d.x)).toEqual([0, 25, 75, 100, 50, 58.75, 76.25, 85, 150, 126.25, 78.75, 55, 200, 160, 80, 40]);
    // gray repeated into RGB, and a uniform image shrunk stays its colour
    const rgb = await loadImageFolder(folder({ "k/img.png": img, "u/big.png": uniformPng(9, 7, [17, 34, 51]) }), {
      shape: [4, 4, 3],
    });
    expect(Array.from(rgb.x.subarray(0, 12))).toEqual([0, 0, 0, 25, 25, 25, 75, 75, 75, 100, 100, 100]);
    expectUniform(rgb.x.subarray(48), [17, 34, 51]);
  });

  it("takes the classes in the order given (leaving out the others) and at most `limit` images per class", async () => {
    const dir = folder({
      "cat/1.png": uniformPng(2, 2, [1]),
      "cat/2.png": uniformPng(2, 2, [2]),
      "dog/1.png": uniformPng(2, 2, [3]),
      "dog/2.png": uniformPng(2, 2, [4]),
      "eel/1.png": uniformPng(2, 2, [5]),
    });
    const d = await loadImageFolder(dir, { shape: [2, 2, 1], classes: ["dog", "cat"], limit: 1 });
    expect(d.classNames).toEqual(["dog", "cat"]);
    expect(d.files).toEqual(["dog/1.png", "cat/1.png"]);
    expect(Array.from(d.y)).toEqual([0, 1]);
    expect([d.x[0], d.x[4]]).toEqual([3, 1]);
  });

  it("names the folder, class or file at fault", async () => {
    const shape = [2, 2, 1] as const;
    await expect(loadImageFolder(folder({ "a.png": uniformPng(2, 2, [1]) }), { shape })).rejects.toThrow(
      /expected one sub-folder per class, found no sub-folders/,
    );
    await expect(loadImageFolder(join(tmp(), "missing"), { shape })).rejects.toThrow(StorageError);
    const emptyClass = folder({ "cat/1.png": uniformPng(2, 2, [1]) });
    mkdirSync(join(emptyClass, "dog"));
    await expect(loadImageFolder(emptyClass, { shape })).rejects.toThrow(
      /dog: expected PNG or JPEG images of class "dog", found none/,
    );
    const onlyText = folder({ "cat/1.png": uniformPng(2, 2, [1]), "dog/readme.txt": "x" });
    await expect(loadImageFolder(onlyText, { shape })).rejects.toThrow(/class "dog", found none/);
    const broken = folder({ "cat/1.png": uniformPng(2, 2, [1]), "cat/2.png": uniformPng(2, 2, [1]).subarray(0, 30) });
    await expect(loadImageFolder(broken, { shape })).rejects.toThrow(/cat[\\/]2\.png: expected a readable PNG/);
    const notJpeg = folder({ "cat/photo.jpg": "GIF89a..." });
    await expect(loadImageFolder(notJpeg, { shape })).rejects.toThrow(
      /cat[\\/]photo\.jpg: expected a PNG or JPEG image, found 9 bytes starting 47 49 46 38/,
    );
    const badJpeg = folder({ "cat/photo.jpg": Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 1, 2, 3]) });
    await expect(loadImageFolder(badJpeg, { shape })).rejects.toThrow(/photo\.jpg: expected a readable JPEG/);
    const jpeg = uniformJpeg(16, 16, [1, 2, 3]);
    const cutJpeg = folder({ "cat/ok.jpg": jpeg, "cat/cut.jpg": jpeg.subarray(0, jpeg.length >> 1) });
    await expect(loadImageFolder(cutJpeg, { shape })).rejects.toThrow(
      /cat[\\/]cut\.jpg: expected a readable JPEG, found an error decoding it/,
    );
    await expect(loadImageFolder(broken, { shape, classes: ["cow"] })).rejects.toThrow(
      /expected images of class "cow", found none[\s\S]*hint: the classes found are "cat"/,
    );
    await expect(loadImageFolder(broken, { shape: [2, 2, 2] })).rejects.toThrow(OptionError);
    await expect(loadImageFolder(broken, { shape: [2, 0, 1] as unknown as [number, number, number] })).rejects.toThrow(
      /expected shape \[height, width, channels\] of positive integers/,
    );
    await expect(loadImageFolder(broken, { shape, limit: 0 })).rejects.toThrow(/limit to be an integer >= 1/);
  });
});

describe("image decoding from (name, bytes), as in a browser", () => {
  it("decodeImage and imageDataset give what the folder loader gives", async () => {
    const files = {
      "b/x.png": uniformPng(3, 3, [9, 8, 7]),
      "a/y.jpg": uniformJpeg(5, 4, [100, 50, 25]),
      "a/w.png": uniformPng(2, 2, [1, 2, 3, 255]),
    };
    const fromDisk = await loadImageFolder(folder(files), { shape: [3, 3, 3] });
    const fromBytes = imageDataset(
      Object.entries(files).map(([name, bytes]) => ({ name, bytes, className: name.split("/")[0] })),
      { shape: [3, 3, 3] },
    );
    expect(fromBytes.classNames).toEqual(["a", "b"]);
    expect(Array.from(fromBytes.y)).toEqual(Array.from(fromDisk.y));
    expect(Array.from(fromBytes.x)).toEqual(Array.from(fromDisk.x));
    const one = decodeImage("x.png", files["b/x.png"], [3, 3, 3]);
    expect(one.length).toBe(27);
    expectUniform(one, [9, 8, 7]);
    expect(() => imageDataset([], { shape: [3, 3, 3] })).toThrow(/expected image files, found none/);
    expect(() =>
      imageDataset([{ name: "q.png", bytes: files["b/x.png"], className: "b" }], {
        shape: [3, 3, 3],
        classes: ["b", "c"],
      }),
    ).toThrow(/class "c", found none/);
  });

  it("decodes palette PNGs", () => {
    const pal = png({
      width: 2,
      height: 1,
      data: Uint8Array.from([0, 1]),
      channels: 1,
      depth: 8,
      palette: [
        [255, 0, 0],
        [0, 0, 255],
      ],
    });
    expect(Array.from(decodeImage("p.png", pal, [1, 2, 3]))).toEqual([255, 0, 0, 0, 0, 255]);
  });

  it("the decoding modules import nothing from node: (browser-safe)", () => {
    const seen = new Set<string>();
    const walk = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+"([^"]+)"/gm)) {
        const spec = m[1];
        expect(
          spec.startsWith("node:") || ["fs", "path", "os", "zlib", "crypto"].includes(spec),
          `${file} imports ${spec}`,
        ).toBe(false);
        if (spec.startsWith(".")) walk(resolve(dirname(file), spec.replace(/\.js$/, ".ts")));
      }
    };
    const here = new URL("../src/data", import.meta.url).pathname;
    for (const f of ["image.ts", "png.ts", "csv.ts"]) walk(join(here, f));
    expect(seen.size).toBeGreaterThanOrEqual(5);
  });
});
