/**
 * A canvas to draw digits on, with pointer events (mouse, pen and finger alike): white strokes
 * with round ends, `lineWidth` pixels wide in the canvas's own pixel grid (whatever size the page
 * shows it at). `onStroke` runs after every segment drawn, `onLift` when a stroke ends.
 */
export function setupDrawingPad(
  pad: HTMLCanvasElement,
  { lineWidth, onStroke, onLift }: { lineWidth: number; onStroke?: () => void; onLift?: () => void },
): void {
  const ctx = pad.getContext("2d", { willReadFrequently: true })!;
  let last: { x: number; y: number } | null = null;
  const at = (e: PointerEvent) => {
    const r = pad.getBoundingClientRect();
    return { x: ((e.clientX - r.left) * pad.width) / r.width, y: ((e.clientY - r.top) * pad.height) / r.height };
  };
  const line = (a: { x: number; y: number }, b: { x: number; y: number }) => {
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = lineWidth;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(a.x, a.y);
    ctx.lineTo(b.x, b.y);
    ctx.stroke();
    onStroke?.();
  };
  pad.addEventListener("pointerdown", (e) => {
    pad.setPointerCapture(e.pointerId);
    last = at(e);
    line(last, last);
  });
  pad.addEventListener("pointermove", (e) => {
    if (!last) return;
    const p = at(e);
    line(last, p);
    last = p;
  });
  const up = () => {
    if (last) onLift?.();
    last = null;
  };
  pad.addEventListener("pointerup", up);
  pad.addEventListener("pointercancel", up);
}
