#!/usr/bin/python3
"""Peer: the benchmarked training step (bench/spec.ts) in PyTorch on the CPU.

Run by bench/peers/torch-mlp.ts as a child process in the same benchmark run:
    /usr/bin/python3 torch_mlp.py CONFIG_JSON
CONFIG_JSON: {"spec": MlpSpec, "init": path of the shared start (float32 little-endian:
the weights of each layer [fanIn, fanOut] row-major, then x [batch, inputs], then targets
[batch, classes]), "threads": n, "lossSteps": k, "warmup": w, "runs": r, "minRunMs": ms}.
Prints one JSON object: {"torch": version, "threads": n, "losses": [k floats],
"seconds": [r seconds per step], "repsPerRun": n} - or {"unavailable": reason}.

The network is what a PyTorch user would write: torch.mm, F.batch_norm (standard variant),
a straight-through sign as an autograd.Function, torch.optim.Adam with one parameter group
per binary weight (its Glorot learning-rate scale) and a clamp of W after the step.
PyTorch's Adam adds eps to sqrt(v / (1 - b2^t)), Lasagne's (our contract's) to sqrt(v); the
gradients of W here are ~1e-7, so the two differ: each step sets the groups' eps to
eps / sqrt(1 - b2^t), which makes PyTorch's update exactly Lasagne's.

Debian's torch calls whatever libblas.so.3 the system selects: the reference (netlib) BLAS
is ~15x slower than OpenBLAS (apt-get install libopenblas0-pthread); the output names it.
The caller sets OMP_NUM_THREADS and OPENBLAS_NUM_THREADS to the thread count.
"""
import json
import statistics
import sys
import time

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as e:  # reported as "not available" by the caller, not a failure
    print(json.dumps({"unavailable": f"cannot import torch: {e}"}))
    sys.exit(0)


class BinarizeSte(torch.autograd.Function):
    """Wb = +H where W >= 0 else -H; backward: dC/dW := dC/dWb (straight-through)."""

    @staticmethod
    def forward(ctx, w, H):
        return torch.where(w >= 0, torch.full_like(w, H), torch.full_like(w, -H))

    @staticmethod
    def backward(ctx, g):
        return g, None


def blas_library():
    """The BLAS shared library mapped into this process (after a product has run)."""
    try:
        with open("/proc/self/maps") as f:
            names = {line.split()[-1] for line in f if "blas" in line.split()[-1]}
    except OSError:
        return "?"
    return ", ".join(sorted(n for n in names if "openblas" in n)[:1] or sorted(names)[:1]) or "?"


def glorot_lr_scale(fan_in, fan_out):
    return 1.0 / (1.5 / (fan_in + fan_out)) ** 0.5


def main():
    cfg = json.loads(sys.argv[1])
    spec = cfg["spec"]
    torch.set_num_threads(cfg["threads"])
    sizes = [spec["inputs"], *spec["hidden"], spec["classes"]]
    shapes = list(zip(sizes[:-1], sizes[1:]))
    M, H = spec["batch"], spec["H"]

    raw = np.fromfile(cfg["init"], dtype="<f4")
    offset = 0

    def take(*shape):
        nonlocal offset
        n = int(np.prod(shape))
        a = torch.from_numpy(raw[offset:offset + n].copy()).reshape(*shape)
        offset += n
        return a

    weights = [take(k, n).requires_grad_() for k, n in shapes]
    x = take(M, spec["inputs"])
    targets = take(M, spec["classes"])
    gammas = [torch.ones(n, requires_grad=True) for _, n in shapes]
    betas = [torch.zeros(n, requires_grad=True) for _, n in shapes]
    running = [(torch.zeros(n), torch.ones(n)) for _, n in shapes]

    groups = [{"params": [w], "lr": spec["lr"] * glorot_lr_scale(k, n)} for w, (k, n) in zip(weights, shapes)]
    groups.append({"params": gammas + betas, "lr": spec["lr"]})
    opt = torch.optim.Adam(groups, lr=spec["lr"], betas=(spec["beta1"], spec["beta2"]), eps=spec["adamEps"])

    t = 0

    def step():
        nonlocal t
        t += 1
        for group in opt.param_groups:
            group["eps"] = spec["adamEps"] / (1 - spec["beta2"] ** t) ** 0.5
        h = x
        for i, (w, g, b, (rm, rv)) in enumerate(zip(weights, gammas, betas, running)):
            z = torch.mm(h, BinarizeSte.apply(w, H))
            y = F.batch_norm(z, rm, rv, g, b, training=True, momentum=spec["bnMomentum"], eps=spec["bnEps"])
            h = F.relu(y) if i < len(weights) - 1 else y
        loss = torch.mean(torch.square(F.relu(1 - targets * h)))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            for w in weights:
                w.clamp_(-H, H)
        return loss.item()

    losses = [step() for _ in range(cfg["lossSteps"])]  # these steps also warm up
    for _ in range(cfg["warmup"]):
        step()
    t0 = time.perf_counter()
    step()
    one_ms = max((time.perf_counter() - t0) * 1000, 1e-3)
    reps = max(1, int(-(-cfg["minRunMs"] // one_ms)))  # ceil(minRunMs / one_ms), as bench/stats.ts
    seconds = []
    for _ in range(cfg["runs"]):
        t0 = time.perf_counter()
        for _ in range(reps):
            step()
        seconds.append((time.perf_counter() - t0) / reps)
    print(json.dumps({
        "torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_library(), "losses": losses,
        "seconds": seconds, "repsPerRun": reps, "median": statistics.median(seconds),
    }))


if __name__ == "__main__":
    main()
