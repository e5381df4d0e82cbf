"""BinaryConnect's pieces in PyTorch, shared by the PyTorch peers (torch_mlp.py: the CPU MLP step;
torch_cnn.py: the CPU CNN step; torch_gpu.py: the GPU suite): the straight-through binarization,
the Glorot learning-rate scale, Adam with Lasagne's eps placement, the square hinge loss and the
clip, the reader of the benchmark's shared start (float32 little-endian arrays, one after
another), and the benchmarked CNN built from its layer list.

The peers import this module before torch: where torch (or numpy) cannot be imported, importing
it prints {"unavailable": reason} and exits with status 0 (the caller reports the peer as "not
available", not a failure)."""
import json
import os
import statistics
import sys
import time

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as e:
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


def peer_config():
    """The peer's configuration (the JSON of its command line), with torch's thread count set to its "threads"."""
    cfg = json.loads(sys.argv[1])
    torch.set_num_threads(cfg["threads"])
    return cfg


def glorot_lr_scale(fan_in, fan_out):
    """BinaryConnect's per-layer learning-rate scale of W: 1 / sqrt(1.5 / (fan_in + fan_out))."""
    return 1.0 / (1.5 / (fan_in + fan_out)) ** 0.5


def shared_start_reader(path):
    """take(*shape): the next array of the shared-start file, as a torch tensor of that shape."""
    raw = np.fromfile(path, dtype="<f4")
    offset = 0

    def take(*shape):
        nonlocal offset
        n = int(np.prod(shape))
        a = torch.from_numpy(raw[offset:offset + n].copy()).reshape(*shape)
        offset += n
        return a

    return take


def mlp_forward(x, weights, gammas, betas, running, spec):
    """The benchmarked MLP: binary matmul, standard batch norm (training mode), ReLU but after the last layer."""
    h = x
    for i, (w, g, b, (rm, rv)) in enumerate(zip(weights, gammas, betas, running)):
        z = torch.mm(h, BinarizeSte.apply(w, spec["H"]))
        y = F.batch_norm(z, rm, rv, g, b, training=True, momentum=spec["bnMomentum"], eps=spec["bnEps"])
        h = F.relu(y) if i < len(weights) - 1 else y
    return h


class Trainer:
    """Adam over W (its Glorot scale in its own group) and the batch norms' gamma and beta; after each
    step W is clipped to [-H, H].

    PyTorch's Adam adds eps to sqrt(v / (1 - b2^t)), Lasagne's (our contract's) to sqrt(v); the
    gradients of W are ~1e-7, so the two differ: each step sets the groups' eps to
    eps / sqrt(1 - b2^t), which makes PyTorch's update exactly Lasagne's."""

    def __init__(self, weights, scales, gammas, betas, spec):
        self.weights, self.spec, self.t = weights, spec, 0
        groups = [{"params": [w], "lr": spec["lr"] * s} for w, s in zip(weights, scales)]
        groups.append({"params": gammas + betas, "lr": spec["lr"]})
        self.opt = torch.optim.Adam(groups, lr=spec["lr"], betas=(spec["beta1"], spec["beta2"]), eps=spec["adamEps"])

    def step(self, scores, targets):
        """Square hinge loss of scores against +-1 targets, backward, Adam, clip; returns the loss (a tensor)."""
        self.t += 1
        spec = self.spec
        for group in self.opt.param_groups:
            group["eps"] = spec["adamEps"] / (1 - spec["beta2"] ** self.t) ** 0.5
        loss = torch.mean(torch.square(F.relu(1 - targets * scores)))
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        with torch.no_grad():
            for w in self.weights:
                w.clamp_(-spec["H"], spec["H"])
        return loss


def cnn_network(spec, layers, take, batch, dev):
    """The CNN of bench/cnn-spec.ts from its layers as src/nn/architecture.ts parses them (conv,
    maxpool, batchnorm, relu, flatten, dense) and the shared start (weights [kh, kw, Cin, Cout] /
    [in, out] row-major, then x NHWC, then targets). Returns (step, x0, t0): step(x NCHW, targets)
    trains one step (forward, square hinge loss, backward, Adam, clip) and returns the loss tensor."""
    H = spec["H"]
    h0, w0, c0 = spec["input"]
    # weight shapes and Glorot scales, walking the layers as bench/cnn-spec.ts weightLayers does
    weights, scales, channels = [], [], []
    hh, ww, c, features = h0, w0, c0, 0
    for l in layers:
        if l["kind"] == "conv":
            kh, kw = l["kernel"]
            hh = (hh + 2 * l["pad"][0] - kh) // l["stride"][0] + 1
            ww = (ww + 2 * l["pad"][1] - kw) // l["stride"][1] + 1
            w = take(kh, kw, c, l["filters"]).permute(3, 2, 0, 1).contiguous()  # -> [Cout, Cin, kh, kw]
            weights.append(w.to(dev).requires_grad_())
            scales.append(glorot_lr_scale(kh * kw * c, kh * kw * l["filters"]))
            c = l["filters"]
            channels.append(c)
        elif l["kind"] == "maxpool":
            hh = (hh - l["window"][0]) // l["stride"][0] + 1
            ww = (ww - l["window"][1]) // l["stride"][1] + 1
        elif l["kind"] == "flatten":
            features = hh * ww * c
        elif l["kind"] == "dense":
            weights.append(take(features, l["units"]).to(dev).requires_grad_())
            scales.append(glorot_lr_scale(features, l["units"]))
            features = l["units"]
            channels.append(features)
    x0 = take(batch, h0, w0, c0).permute(0, 3, 1, 2).contiguous().to(dev)
    t0 = take(batch, spec["classes"]).to(dev)
    gammas = [torch.ones(n, device=dev, requires_grad=True) for n in channels]
    betas = [torch.zeros(n, device=dev, requires_grad=True) for n in channels]
    running = [(torch.zeros(n, device=dev), torch.ones(n, device=dev)) for n in channels]
    trainer = Trainer(weights, scales, gammas, betas, spec)

    def step(x, targets):
        h, k, bn = x, 0, 0
        for l in layers:
            kind = l["kind"]
            if kind == "conv":
                h = F.conv2d(h, BinarizeSte.apply(weights[k], H), stride=tuple(l["stride"]), padding=tuple(l["pad"]))
                k += 1
            elif kind == "maxpool":
                h = F.max_pool2d(h, tuple(l["window"]), tuple(l["stride"]))
            elif kind == "flatten":
                h = h.permute(0, 2, 3, 1).reshape(h.shape[0], -1)  # NHWC order, as ours
            elif kind == "dense":
                h = torch.mm(h, BinarizeSte.apply(weights[k], H))
                k += 1
            elif kind == "batchnorm":
                rm, rv = running[bn]
                h = F.batch_norm(h, rm, rv, gammas[bn], betas[bn], training=True, momentum=spec["bnMomentum"], eps=spec["bnEps"])
                bn += 1
            elif kind == "relu":
                h = F.relu(h)
            else:
                raise ValueError(f"layer {kind} is not in the benchmarked network")
        return trainer.step(h, targets)

    return step, x0, t0


def blas_library():
    """
    The BLAS shared library mapped into this process (after a product has run): the libblas or
    libopenblas among the mapped files whose path names blas (OpenBLAS's liblapack can be mapped
    beside the reference libblas, so a path naming openblas alone does not say which BLAS runs).
    """
    try:
        with open("/proc/self/maps") as f:
            names = {line.split()[-1] for line in f if "blas" in line.split()[-1]}
    except OSError:
        return "?"
    blas = sorted(n for n in names if os.path.basename(n).startswith(("libblas", "libopenblas")))
    return (blas or sorted(names) or ["?"])[0]


def timed_runs(fn, cfg):
    """Seconds per call of fn (which must end with a synchronize on a GPU), as bench/stats.ts: warm-up, calibration, runs."""
    for _ in range(cfg["warmup"]):
        fn()
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-6)
    reps = max(1, int(-(-cfg["minRunMs"] / 1000 // one)))  # ceil(minRunMs / one call)
    seconds = []
    for _ in range(cfg["runs"]):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        seconds.append((time.perf_counter() - t0) / reps)
    return seconds, reps


def profile_table(step, steps):
    """
    Where `steps` steps' time goes, as bench/profile-step.ts prints our engine's: each operator's
    self CPU time per step (ms, share of the step) with its input shapes, largest first, from
    torch.profiler; then the step's mean time under the profiler (its bookkeeping included).
    """
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        step_ms = (time.perf_counter() - t0) / steps * 1000
    lines = []
    for e in sorted(prof.key_averages(group_by_input_shape=True), key=lambda e: -e.self_cpu_time_total):
        ms = e.self_cpu_time_total / 1000 / steps
        if ms >= 0.01:
            shapes = ", ".join("x".join(map(str, s)) for s in e.input_shapes if s)
            lines.append(f"{ms:9.3f} ms {100 * ms / step_ms:5.1f} %  {e.key} {shapes}")
    lines.append(f"step {step_ms:.2f} ms under the profiler, mean of {steps} steps")
    return "\n".join(lines)


def report_steps(step, cfg):
    """
    Prints, as JSON, the losses of the first cfg["lossSteps"] training steps (which also warm up)
    and the timed steps; with cfg["profile"] = n, also profile_table of n more steps.
    """
    losses = [step() for _ in range(cfg["lossSteps"])]
    seconds, reps = timed_runs(step, cfg)
    extra = {"profile": profile_table(step, cfg["profile"])} if cfg.get("profile") else {}
    print(json.dumps({
        "torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_library(), "losses": losses,
        "seconds": seconds, "repsPerRun": reps, "median": statistics.median(seconds), **extra,
    }))
