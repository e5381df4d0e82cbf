import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { TopLevelSpec } from "vega-lite";
import { UsageError } from "../core/errors.js";
import { ensureDir, writeFileAtomic } from "../train/fsio.js";

/**
 * The plotting libraries (vega, vega-lite, @resvg/resvg-js: ~20 MB) are optional peer
 * dependencies: only `binaryconnect plot` needs them, so they load on first use.
 */
export const PLOTTING_PACKAGES = ["vega", "vega-lite", "@resvg/resvg-js"] as const;

interface Plotting {
  vega: typeof import("vega");
  compile: typeof import("vega-lite").compile;
  Resvg: typeof import("@resvg/resvg-js").Resvg;
}

let plotting: Plotting | undefined;

/** Loads the plotting libraries, or says how to install them. `load` is replaceable for tests. */
export async function loadPlotting(loader?: (name: string) => Promise<unknown>): Promise<Plotting> {
  if (plotting && !loader) return plotting;
  const load = loader ?? ((name: string) => import(name));
  const missing: string[] = [];
  const get = async <T>(name: string): Promise<T | undefined> => {
    try {
      return (await load(name)) as T;
    } catch {
      missing.push(name);
      return undefined;
    }
  };
  const [vega, vegaLite, resvg] = await Promise.all([
    get<typeof import("vega")>("vega"),
    get<typeof import("vega-lite")>("vega-lite"),
    get<typeof import("@resvg/resvg-js")>("@resvg/resvg-js"),
  ]);
  if (!vega || !vegaLite || !resvg) {
    throw new UsageError(
      `plot needs the plotting libraries, which are optional and not installed: ${missing.join(", ")}`,
      `install them beside binaryconnect: npm install ${PLOTTING_PACKAGES.join(" ")}`,
    );
  }
  const loaded = { vega, compile: vegaLite.compile, Resvg: resvg.Resvg };
  if (!loader) plotting = loaded;
  return loaded;
}

/** The font every figure asks for; resvg needs the file to draw text into the PNG. */
export const FONT_FAMILY = "DejaVu Sans";

/** Where Debian's fonts-dejavu-core puts it (scripts/install-test-deps.sh installs it). */
const FONT_FILES = [
  "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
  "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
];

/** Look shared by every figure: white background, readable font sizes. */
export const FIGURE_CONFIG = {
  background: "white",
  font: FONT_FAMILY,
  title: { fontSize: 15, subtitleFontSize: 12, anchor: "middle" },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 12, titleFontSize: 12, labelLimit: 300 },
  header: { labelFontSize: 13, titleFontSize: 13 },
} as const;

/** PNG pixels per SVG unit (2: sharp on high-density screens and in documents). */
export const PNG_SCALE = 2;

export interface Figure {
  svg: string;
  png: Uint8Array;
}

/**
 * Renders a Vega-Lite spec without a browser: Vega-Lite compiles it to Vega, a headless Vega
 * view (renderer "none") writes the SVG, and resvg rasterizes that SVG to PNG at PNG_SCALE.
 */
export async function renderFigure(spec: TopLevelSpec): Promise<Figure> {
  const { vega, compile, Resvg } = await loadPlotting();
  const view = new vega.View(
    vega.parse(compile({ ...spec, config: { ...FIGURE_CONFIG, ...spec.config } } as TopLevelSpec).spec),
    { renderer: "none" },
  );
  try {
    const svg = await view.toSVG();
    return { svg, png: svgToPng(svg, Resvg) };
  } finally {
    view.finalize();
  }
}

/** Rasterizes an SVG with resvg, using the DejaVu font files where present and the system fonts. */
export function svgToPng(svg: string, Resvg: Plotting["Resvg"]): Uint8Array {
  const fontFiles = FONT_FILES.filter((f) => existsSync(f));
  const resvg = new Resvg(svg, {
    fitTo: { mode: "zoom", value: PNG_SCALE },
    font: { fontFiles, loadSystemFonts: true, defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY },
  });
  return resvg.render().asPng();
}

/**
 * Why the PNGs will have no text, or null when fonts are there: resvg draws no text without a
 * font file, and a bare container image may have none.
 */
export function missingFontWarning(): string | null {
  if (FONT_FILES.some((f) => existsSync(f)) || hasFontFile("/usr/share/fonts") || hasFontFile("/usr/local/share/fonts"))
    return null;
  return (
    "no font files found (e.g. /usr/share/fonts): the PNGs will have no text (the SVGs are complete); " +
    "install one, e.g. `apt-get install fonts-dejavu-core`"
  );
}

function hasFontFile(dir: string, depth = 4): boolean {
  if (depth === 0 || !existsSync(dir)) return false;
  return readdirSync(dir, { withFileTypes: true }).some((e) =>
    e.isDirectory() ? hasFontFile(join(dir, e.name), depth - 1) : /\.(ttf|otf|ttc)$/i.test(e.name),
  );
}

/**
 * Writes NAME.svg and NAME.png into `dir` (created where missing) and returns their paths. Each
 * file is replaced whole (written aside, then renamed): a full disk or a kill leaves the old
 * figure or none, never a cut-off one; a file error is a StorageError that says what failed.
 */
export function writeFigure(dir: string, name: string, figure: Figure): string[] {
  ensureDir(dir);
  const svgPath = join(dir, `${name}.svg`);
  const pngPath = join(dir, `${name}.png`);
  writeFileAtomic(svgPath, new TextEncoder().encode(figure.svg));
  writeFileAtomic(pngPath, figure.png);
  return [svgPath, pngPath];
}
