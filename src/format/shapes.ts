/**
 * Shapes of the layers of a .bcnet model (NHWC images), in plain TypeScript: the inference
 * engine (no training code) and the format's checks share them.
 */

/** [rows, cols] of a kernel, window, stride or padding. */
export type Pair = readonly [number, number];

/** An image (one example): height x width x channels, stored row-major as NHWC. */
export interface ImageShape {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

/** Values of one image. */
export function imageSize(s: ImageShape): number {
  return s.height * s.width * s.channels;
}

/**
 * Output positions along one side of a convolution or pooling window (no rounding up):
 *   out = floor((size + 2 pad - kernel) / stride) + 1
 * (the same as the training engine's convOutputSize; <= 0 when the window does not fit).
 */
export function windowOutput(size: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

/** The output of a convolution with `filters` filters (before its pooling). */
export function convOutputShape(input: ImageShape, filters: number, kernel: Pair, stride: Pair, pad: Pair): ImageShape {
  return {
    height: windowOutput(input.height, kernel[0], stride[0], pad[0]),
    width: windowOutput(input.width, kernel[1], stride[1], pad[1]),
    channels: filters,
  };
}

/** The output of max pooling (no padding). */
export function poolOutputShape(input: ImageShape, window: Pair, stride: Pair): ImageShape {
  return convOutputShape(input, input.channels, window, stride, [0, 0]);
}

export function sameShape(a: ImageShape, b: ImageShape): boolean {
  return a.height === b.height && a.width === b.width && a.channels === b.channels;
}

export function shapeText(s: ImageShape): string {
  return `${s.height}x${s.width}x${s.channels}`;
}
