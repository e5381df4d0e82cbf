import { OptionError } from "../core/errors.js";

/**
 * How a layer's weights are binarized during training (paper section 2.3):
 * - "none": real weights (the "no regularizer" baseline);
 * - "det": Wb = H * sign(W) (zero maps to +H);
 * - "stoch": Wb = +H with probability hard_sigmoid(W / H), else -H, sampled on every forward pass.
 */
export type Binarization = "none" | "det" | "stoch";
export const BINARIZATIONS: readonly Binarization[] = ["none", "det", "stoch"];

/** What other words for a binarization mean, for "did you mean ...?" hints ("binary" is not "none"). */
export const BINARIZATION_SYNONYMS: Readonly<Record<string, Binarization>> = {
  binary: "det",
  binarized: "det",
  sign: "det",
  deterministic: "det",
  stochastic: "stoch",
  random: "stoch",
  real: "none",
  float: "none",
  full: "none",
  off: "none",
};

/**
 * `value` as a Binarization, or an OptionError that names `what`, says what was found and, for
 * another word of the same meaning (BINARIZATION_SYNONYMS, any case), which one was meant.
 */
export function checkBinarization(value: unknown, what: string): Binarization {
  if (BINARIZATIONS.includes(value as Binarization)) return value as Binarization;
  const key = typeof value === "string" ? value.toLowerCase() : "";
  throw new OptionError(
    `${what} must be "det", "stoch" or "none", found ${JSON.stringify(value)}`,
    Object.hasOwn(BINARIZATION_SYNONYMS, key)
      ? `did you mean "${BINARIZATION_SYNONYMS[key]}"?`
      : "det: sign(W), stoch: sampled signs, none: real weights (paper section 2.3)",
  );
}

/**
 * Test-time inference (paper section 2.6): "binary" (Wb, for det), "real" (W, for stoch in
 * the paper's table), or an ensemble of N stochastic binarizations whose outputs are averaged.
 */
export type TestTime = { kind: "binary" } | { kind: "real" } | { kind: "ensemble"; samples: number };

/** The test-time mode the paper uses for a training mode: det -> binary, stoch/none -> real. */
export function defaultTestTime(mode: Binarization): TestTime {
  return mode === "det" ? { kind: "binary" } : { kind: "real" };
}

export function parseTestTime(text: string): TestTime {
  if (text === "binary" || text === "real") return { kind: text };
  const m = /^ensemble:(\d+)$/.exec(text);
  if (m && Number(m[1]) >= 1) return { kind: "ensemble", samples: Number(m[1]) };
  throw new OptionError(`bad test-time mode "${text}"; expected binary, real or ensemble:N (N >= 1, e.g. ensemble:8)`);
}

export function testTimeToString(t: TestTime): string {
  return t.kind === "ensemble" ? `ensemble:${t.samples}` : t.kind;
}
