#!/usr/bin/env python3
"""Golden values for a few full BinaryConnect training steps, computed independently in NumPy.

Run from the repository root:

    python3 test/golden/make_golden.py

It writes test/golden/golden.json (layout: test/golden/README.md).

Generated with a Python 3.11.7 interpreter with NumPy 2.4.6 (Debian's python3 there had no
NumPy). The data and the
initial weights come from numpy.random.default_rng(42) (PCG64), whose output is stable across
NumPy versions for standard_normal, integers and uniform, and every value the TS side needs is
stored explicitly in the JSON anyway.

Everything is float64. The implementation does not share code with the TypeScript engine: the
forward pass, the hand-written backward pass (checked by central finite differences before the
JSON is written), the Adam update and the counter-based RNG are written here from the
specification (the paper's Algorithm 1, src/kernels/contract.ts, src/core/rng.ts).

Network: 7 -> dense 6 -> BN -> ReLU -> dense 5 -> BN -> ReLU -> dense 3 -> BN (logits).
Dense layers have no bias, weights stored [in, out], y = x . Wb.
BN (authors' variant): y = (x - mean) * gamma / (sqrt(biased var) + 1e-4) + beta,
running mean / running std: running += 0.15 * (batch value - running).
Loss: square hinge, mean over batch x classes of max(0, 1 - t y)^2, t = 2 onehot - 1.
Update: Adam (Lasagne form, lr 0.01), W: clip(W - W_LR_scale * step, -H, H) for det/stoch,
W - step for mode "none"; BN gamma/beta: plain Adam with the same lr.
"""

import json
import os
import platform
import sys

import numpy as np

# ----------------------------------------------------------------------------- configuration
SIZES = [7, 6, 5, 3]          # input, hidden 1, hidden 2, classes
N_LAYERS = len(SIZES) - 1
BATCH = 4
N_CLASSES = SIZES[-1]
N_STEPS = 3
H = 1.0
LR = 0.01
BETA1 = 0.9
BETA2 = 0.999
ADAM_EPS = 1e-8
BN_EPS = 1e-4
BN_MOMENTUM = 0.15
DATA_SEED = 42
STOCH_SEED = 1234
COUNTER_STRIDE = 16           # counter = step_index * 16 + layer_index
MODES = ["det", "stoch", "none"]

MASK32 = 0xFFFFFFFF

# ----------------------------------------------------------------------------- counter-based RNG
# Reimplementation of src/core/rng.ts in NumPy uint32 arithmetic (multiplications wrap mod 2^32,
# as Math.imul followed by >>> 0 does).


def fmix32(h):
    h = np.array(h, dtype=np.uint32, ndmin=1)  # arrays: uint32 products wrap silently
    h ^= h >> np.uint32(16)
    h = h * np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h = h * np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    return h


def stream_key(seed, counter):
    a = fmix32(seed & MASK32)
    b = np.array(counter & MASK32, dtype=np.uint32, ndmin=1) * np.uint32(0x9E3779B9)
    return int(fmix32(a ^ b)[0])


def counter_uniform(key, index):
    """u for element indices `index` (array) of the stream `key`: 24 bits, in [0, 1)."""
    idx = np.array(index, dtype=np.uint32, ndmin=1)
    h = fmix32(np.uint32(key) ^ (idx * np.uint32(0x9E3779B1)))
    return (h >> np.uint32(8)).astype(np.float64) * (1.0 / 16777216.0)


# ----------------------------------------------------------------------------- binarization


def binarize(W, mode, key):
    """Returns (Wb, margin): margin is the distance of the decision from its threshold
    (|W| for det, |u - p| for stoch; None for mode none)."""
    if mode == "none":
        return W.copy(), None
    if mode == "det":
        return np.where(W >= 0, H, -H), float(np.min(np.abs(W)))
    if mode == "stoch":
        p = np.clip((W / H + 1.0) / 2.0, 0.0, 1.0)
        u = counter_uniform(key, np.arange(W.size)).reshape(W.shape)  # row-major over [in, out]
        return np.where(u < p, H, -H), float(np.min(np.abs(u - p)))
    raise ValueError(mode)


# ----------------------------------------------------------------------------- forward / backward


def bn_forward(z, gamma, beta):
    mean = z.mean(axis=0)
    var = ((z - mean) ** 2).mean(axis=0)           # biased
    std = np.sqrt(var)
    r = 1.0 / (std + BN_EPS)
    xhat = (z - mean) * r
    return xhat * gamma + beta, (z, mean, var, std, r, xhat)


def bn_backward(dy, gamma, cache):
    """Authors' variant, derived by hand.
    y = (z - mu) * gamma * r + beta, r = 1 / (s + eps), s = sqrt(mean((z - mu)^2)).
    With g = dy * gamma:
      dL/dz_i = r (g_i - mean(g))                       (through z_i and mu; d s / d mu = 0)
              + sum_j g_j (z_j - mu) * dr/dz_i,   dr/dz_i = -r^2 * (z_i - mu) / (M s)
              = r (g_i - mean(g)) - xhat_i * mean(g * xhat) / s
    (the standard variant would have r instead of 1/s in the last term)."""
    z, mean, var, std, r, xhat = cache
    g = dy * gamma
    dbeta = dy.sum(axis=0)
    dgamma = (dy * xhat).sum(axis=0)
    assert np.all(std > 0), "a constant column (std 0) is not expected in this data"
    dz = r * (g - g.mean(axis=0)) - xhat * (g * xhat).mean(axis=0) / std
    return dz, dgamma, dbeta


def square_hinge(y, labels):
    M, K = y.shape
    t = 2.0 * np.eye(K)[labels] - 1.0
    h = np.maximum(0.0, 1.0 - t * y)
    loss = float((h ** 2).sum() / (M * K))
    dy = -2.0 * t * h / (M * K)
    errors = int(np.sum(np.argmax(y, axis=1) != labels))  # np.argmax takes the first maximum
    return loss, dy, errors


def forward(x, Wbs, gammas, betas):
    a = x
    tape = []
    for l in range(N_LAYERS):
        z = a @ Wbs[l]
        y, cache = bn_forward(z, gammas[l], betas[l])
        last = l == N_LAYERS - 1
        out = y if last else np.maximum(y, 0.0)
        tape.append({"in": a, "z": z, "y": y, "cache": cache})
        a = out
    return a, tape


def loss_only(x, labels, Wbs, gammas, betas):
    logits, _ = forward(x, Wbs, gammas, betas)
    return square_hinge(logits, labels)[0]


def backward(dlogits, Wbs, gammas, tape):
    dWb = [None] * N_LAYERS
    dgam = [None] * N_LAYERS
    dbet = [None] * N_LAYERS
    dout = dlogits
    for l in reversed(range(N_LAYERS)):
        rec = tape[l]
        dy = dout if l == N_LAYERS - 1 else dout * (rec["y"] > 0)  # ReLU backward
        dz, dgam[l], dbet[l] = bn_backward(dy, gammas[l], rec["cache"])
        dWb[l] = rec["in"].T @ dz
        dout = dz @ Wbs[l].T
    return dWb, dgam, dbet, dout  # dout = dL/dx


# ----------------------------------------------------------------------------- finite differences


def check_gradients(x, labels, Wbs, gammas, betas, dWb, dgam, dbet, dx, h=1e-5, tol=1e-6):
    """Central differences on the loss wrt every element of Wb, gamma, beta and x."""
    worst = 0.0

    def check(name, arr, analytic):
        nonlocal worst
        fd = np.zeros_like(arr)
        for i in np.ndindex(arr.shape):
            old = arr[i]
            arr[i] = old + h
            lp = loss_only(x, labels, Wbs, gammas, betas)
            arr[i] = old - h
            lm = loss_only(x, labels, Wbs, gammas, betas)
            arr[i] = old
            fd[i] = (lp - lm) / (2 * h)
        scale = max(np.max(np.abs(fd)), np.max(np.abs(analytic)))
        # Element-wise relative error; elements far below the tensor's scale (where the
        # finite difference is dominated by round-off) are compared relative to 1e-3 * scale.
        denom = np.maximum(np.maximum(np.abs(fd), np.abs(analytic)), 1e-3 * scale)
        rel = float(np.max(np.abs(fd - analytic) / denom))
        worst = max(worst, rel)
        assert rel < tol, f"finite-difference check failed for {name}: rel error {rel:.3e}"

    for l in range(N_LAYERS):
        check(f"Wb[{l}]", Wbs[l], dWb[l])
        check(f"gamma[{l}]", gammas[l], dgam[l])
        check(f"beta[{l}]", betas[l], dbet[l])
    check("x", x, dx)
    return worst


# ----------------------------------------------------------------------------- Adam


def adam(param, grad, m, v, t, lr_scale, clip):
    a_t = LR * np.sqrt(1.0 - BETA2 ** t) / (1.0 - BETA1 ** t)
    m = BETA1 * m + (1.0 - BETA1) * grad
    v = BETA2 * v + (1.0 - BETA2) * grad ** 2
    step = a_t * m / (np.sqrt(v) + ADAM_EPS)
    param = param - lr_scale * step
    if clip > 0:
        param = np.clip(param, -clip, clip)
    return param, m, v


# ----------------------------------------------------------------------------- run


def flat(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]


def run_case(mode, xs, labels_all, W0):
    W = [w.copy() for w in W0]
    gamma = [np.ones(n) for n in SIZES[1:]]
    beta = [np.zeros(n) for n in SIZES[1:]]
    run_mean = [np.zeros(n) for n in SIZES[1:]]
    run_std = [np.ones(n) for n in SIZES[1:]]
    mW = [np.zeros_like(w) for w in W]
    vW = [np.zeros_like(w) for w in W]
    mG = [np.zeros(n) for n in SIZES[1:]]
    vG = [np.zeros(n) for n in SIZES[1:]]
    mB = [np.zeros(n) for n in SIZES[1:]]
    vB = [np.zeros(n) for n in SIZES[1:]]
    w_lr_scale = [1.0 / np.sqrt(1.5 / (SIZES[l] + SIZES[l + 1])) for l in range(N_LAYERS)]

    steps = []
    for s in range(N_STEPS):
        x = xs[s].copy()
        labels = labels_all[s].copy()
        keys = [stream_key(STOCH_SEED, s * COUNTER_STRIDE + l) for l in range(N_LAYERS)]
        Wbs, margins = [], []
        for l in range(N_LAYERS):
            wb, mg = binarize(W[l], mode, keys[l])
            Wbs.append(wb)
            margins.append(mg)

        logits, tape = forward(x, Wbs, gamma, beta)
        loss, dlogits, errors = square_hinge(logits, labels)
        dWb, dgam, dbet, dx = backward(dlogits, Wbs, gamma, tape)

        fd_err = check_gradients(x.copy(), labels, [w.copy() for w in Wbs],
                                 [g.copy() for g in gamma], [b.copy() for b in beta],
                                 dWb, dgam, dbet, dx)

        # running statistics (training-mode BN of this step)
        for l in range(N_LAYERS):
            _, mean, var, std, _, _ = tape[l]["cache"]
            run_mean[l] = run_mean[l] + BN_MOMENTUM * (mean - run_mean[l])
            run_std[l] = run_std[l] + BN_MOMENTUM * (std - run_std[l])

        # updates (t is 1-based, lr constant)
        t = s + 1
        for l in range(N_LAYERS):
            if mode == "none":
                W[l], mW[l], vW[l] = adam(W[l], dWb[l], mW[l], vW[l], t, 1.0, 0.0)
            else:
                W[l], mW[l], vW[l] = adam(W[l], dWb[l], mW[l], vW[l], t, w_lr_scale[l], H)
            gamma[l], mG[l], vG[l] = adam(gamma[l], dgam[l], mG[l], vG[l], t, 1.0, 0.0)
            beta[l], mB[l], vB[l] = adam(beta[l], dbet[l], mB[l], vB[l], t, 1.0, 0.0)

        steps.append({
            "step": s,
            "t": t,
            "streamCounters": [s * COUNTER_STRIDE + l for l in range(N_LAYERS)],
            "streamKeys": keys,
            "binarizeMargin": margins,
            "x": flat(x),
            "labels": [int(v) for v in labels],
            "Wb": [flat(w) for w in Wbs],
            "preBN": [flat(r["z"]) for r in tape],
            "bnMean": [flat(r["cache"][1]) for r in tape],
            "bnVar": [flat(r["cache"][2]) for r in tape],
            "bnOut": [flat(r["y"]) for r in tape],
            "logits": flat(logits),
            "loss": loss,
            "errors": errors,
            "dLogits": flat(dlogits),
            "grads": {
                "Wb": [flat(g) for g in dWb],
                "gamma": [flat(g) for g in dgam],
                "beta": [flat(g) for g in dbet],
                "x": flat(dx),
            },
            "fdMaxRelError": fd_err,
            "after": {
                "W": [flat(w) for w in W],
                "gamma": [flat(g) for g in gamma],
                "beta": [flat(b) for b in beta],
                "mW": [flat(m) for m in mW],
                "vW": [flat(v) for v in vW],
                "mGamma": [flat(m) for m in mG],
                "vGamma": [flat(v) for v in vG],
                "mBeta": [flat(m) for m in mB],
                "vBeta": [flat(v) for v in vB],
                "runningMean": [flat(m) for m in run_mean],
                "runningStd": [flat(v) for v in run_std],
            },
        })
    return {"mode": mode, "wLrScale": w_lr_scale if mode != "none" else [1.0] * N_LAYERS,
            "clip": H if mode != "none" else 0.0, "steps": steps}


def rng_self_test():
    """Fixed values of the counter-based RNG, recorded so the TS side can check it alone."""
    # fmix32 known values (Murmur3 finalizer): fmix32(0) = 0, fmix32(1) = 0x514e28b7.
    assert int(fmix32(0)[0]) == 0
    assert int(fmix32(1)[0]) == 0x514E28B7
    key0 = stream_key(STOCH_SEED, 0)
    return {
        "fmix32": {"in": [0, 1, 0xFFFFFFFF, 1234],
                   "out": [int(fmix32(v)[0]) for v in [0, 1, 0xFFFFFFFF, 1234]]},
        "streamKey": {"seed": STOCH_SEED, "counters": [0, 1, 2, 16, 17, 18],
                      "keys": [stream_key(STOCH_SEED, c) for c in [0, 1, 2, 16, 17, 18]]},
        "counterUniform": {"key": key0, "indices": list(range(8)),
                           "u": flat(counter_uniform(key0, np.arange(8)))},
    }


def main():
    rng = np.random.default_rng(DATA_SEED)
    xs = rng.standard_normal((N_STEPS, BATCH, SIZES[0]))
    labels = rng.integers(0, N_CLASSES, size=(N_STEPS, BATCH))
    W0 = [rng.uniform(-H, H, size=(SIZES[l], SIZES[l + 1])) for l in range(N_LAYERS)]

    cases = [run_case(mode, xs, labels, W0) for mode in MODES]

    out = {
        "format": "binaryconnect-golden-v1",
        "generator": "test/golden/make_golden.py",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "config": {
            "sizes": SIZES,
            "batch": BATCH,
            "classes": N_CLASSES,
            "steps": N_STEPS,
            "H": H,
            "lr": LR,
            "beta1": BETA1,
            "beta2": BETA2,
            "adamEps": ADAM_EPS,
            "bnVariant": "authors",
            "bnEps": BN_EPS,
            "bnMomentum": BN_MOMENTUM,
            "dataSeed": DATA_SEED,
            "stochSeed": STOCH_SEED,
            "counterStride": COUNTER_STRIDE,
        },
        "rng": rng_self_test(),
        "inputs": {
            "x": [flat(xs[s]) for s in range(N_STEPS)],
            "labels": [[int(v) for v in labels[s]] for s in range(N_STEPS)],
            "W0": [flat(w) for w in W0],
        },
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    for c in cases:
        print(f"{c['mode']:>5}: losses " + ", ".join(f"{st['loss']:.12f}" for st in c["steps"])
              + "; errors " + ", ".join(str(st["errors"]) for st in c["steps"])
              + "; fd max rel " + f"{max(st['fdMaxRelError'] for st in c['steps']):.2e}"
              + "; min margin " + str(min((m for st in c["steps"] for m in st["binarizeMargin"]
                                            if m is not None), default=None)))
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
