/** Abort signals in the training and evaluation loops (browser-safe). */

/** With a signal, the loops give the event loop a turn this often (milliseconds), so that a signal handler can abort. */
const YIELD_EVERY_MS = 20;

const macrotask: (resume: () => void) => void =
  typeof setImmediate === "function" ? (r) => setImmediate(r) : (r) => setTimeout(r, 0);

/** Checks an abort signal between steps: a turn of the event loop every YIELD_EVERY_MS, a flag test otherwise. */
export class AbortCheck {
  private last = performance.now();
  constructor(readonly signal: AbortSignal) {}

  /** Whether it is time to give the event loop a turn (then await turn()). */
  due(): boolean {
    return performance.now() - this.last >= YIELD_EVERY_MS;
  }

  async turn(): Promise<void> {
    await new Promise<void>(macrotask);
    this.last = performance.now();
  }

  throwIfAborted(): void {
    if (this.signal.aborted) throw this.signal.reason ?? new DOMException("training was aborted", "AbortError");
  }
}
