import { closest as closestLevenshtein } from "fastest-levenshtein";

/** The candidate closest to `word` by edit distance (for "did you mean ...?" hints). */
export function closest(word: string, candidates: readonly string[]): string {
  return closestLevenshtein(word, [...candidates]);
}
