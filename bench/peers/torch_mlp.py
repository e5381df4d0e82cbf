#!/usr/bin/python3
"""Peer: the benchmarked training step (bench/spec.ts) in PyTorch on the CPU.

Run by bench/peers/torch-mlp.ts as a child process in the same benchmark run:
    /usr/bin/python3 torch_mlp.py CONFIG_JSON
CONFIG_JSON: {"spec": MlpSpec, "init": path of the shared start (float32 little-endian:
the weights of each layer [fanIn, fanOut] row-major, then x [batch, inputs], then targets
[batch, classes]), "threads": n, "lossSteps": k, "warmup": w, "runs": r, "minRunMs": ms, "profile": n (optional)}.
Prints one JSON object: {"torch": version, "threads": n, "losses": [k floats],
"seconds": [r seconds per step], "repsPerRun": n, "profile": the per-operator table of n more steps
(bc_torch.py profile_table) when asked} - or {"unavailable": reason}.

The network is what a PyTorch user would write (bc_torch.py): torch.mm, F.batch_norm (standard
variant), a straight-through sign as an autograd.Function, torch.optim.Adam with one parameter
group per binary weight (its Glorot learning-rate scale, Lasagne's eps placement) and a clamp
of W after the step.

Debian's torch calls whatever libblas.so.3 the system selects: the reference (netlib) BLAS
is ~15x slower than OpenBLAS (apt-get install libopenblas0-pthread); the output names it.
The caller sets OMP_NUM_THREADS and OPENBLAS_NUM_THREADS to the thread count.
"""
from bc_torch import Trainer, glorot_lr_scale, mlp_forward, peer_config, report_steps, shared_start_reader  # without torch: "unavailable"
import torch


def main():
    cfg = peer_config()
    spec = cfg["spec"]
    sizes = [spec["inputs"], *spec["hidden"], spec["classes"]]
    shapes = list(zip(sizes[:-1], sizes[1:]))
    M = spec["batch"]

    take = shared_start_reader(cfg["init"])
    weights = [take(k, n).requires_grad_() for k, n in shapes]
    x = take(M, spec["inputs"])
    targets = take(M, spec["classes"])
    gammas = [torch.ones(n, requires_grad=True) for _, n in shapes]
    betas = [torch.zeros(n, requires_grad=True) for _, n in shapes]
    running = [(torch.zeros(n), torch.ones(n)) for _, n in shapes]
    trainer = Trainer(weights, [glorot_lr_scale(k, n) for k, n in shapes], gammas, betas, spec)

    def step():
        return trainer.step(mlp_forward(x, weights, gammas, betas, running, spec), targets).item()

    report_steps(step, cfg)


if __name__ == "__main__":
    main()
