"""Benchmark of one pretraining round against this machine's matmul rate and peers (`make bench`).

Prints, in one run, for each workload: the time of one round (data drawing included), its
GFLOP/s and fraction of the float32 matmul rate measured in this process, and the times of two
peers (`tests/reference.py`: Python loops over tasks with autograd, one written with torch.nn
modules and optimizers, one careful) with the speed-ups; the same for a training run of many
small steps (the Training chapter) against the loop a user would write (one torch.nn model per
task, torch.optim) and a batched autograd implementation over all tasks; the peak memory of a
streamed round with 100 000 tasks; and a sweep (the grid of the Mechanism chapter's ablation,
uncached) run in this process and on `mtrl.process_pool()`, with the difference of their
results. As a table, then as JSON. Before timing, it checks that the peers compute the same W
as `mtrl.pretrain` (float64). The matmul, the round and the peers are timed interleaved (best
of ``--repeats``), so that a drift of the machine's speed affects them alike. Nothing is
asserted about speed.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import torch
from reference import batched_autograd_training, module_round, module_training, reference_round

import mtrl
import mtrl.seeds

WORKLOADS = {
    "target size": dict(d=200, r=5, m=1000, T=1000, n1=200, n2=200),
    "many small tasks": dict(d=100, r=3, m=500, T=2000, n1=20, n2=20),
}
MEMORY_WORKLOAD = dict(d=100, r=3, m=500, T=100_000, n1=100, n2=100)
SWEEP_BASE = dict(d=100, r=3, m=400, n1=200, n2=200)
SWEEP_GRID = dict(
    algorithm=["heads_first", "random_heads", "random_features"],
    T=[1, 3, 10, 32, 100, 316, 1000],
    seed=[0, 1, 2],
)
STEPS = dict(loss="logistic", eta_a=1.0, eta_w=1.0, lam=1.0)
TRAINING = dict(d=100, r=3, m=400, T=100, n1=20, n2=20)
TRAINING_STEPS = dict(rounds=500, loss="logistic", eta_a=0.5, eta_w=0.5, lam=1e-3)


def best_times(fns: dict, repeats: int, *, warm_up: bool = True) -> dict:
    """Return the best wall time of each function of ``fns`` over ``repeats`` interleaved
    calls (after one warm-up call each, unless ``warm_up`` is false: the caller warmed them
    up), so that all of them see the same machine: the machine's speed drifts by several
    percent over a minute."""
    for fn in fns.values() if warm_up else ():
        fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: min(t) for name, t in times.items()}


MATMUL_SIZE = 4096


def matmul(size: int = MATMUL_SIZE):
    """Return a function that multiplies two float32 ``size x size`` matrices."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    return lambda: a @ b


def round_flops(d, m, T, n1, n2, **_) -> float:
    """Return the GEMM flops of one round: X1 W^T, X2 W^T and C^T X2."""
    return 2.0 * T * (n1 + 2 * n2) * d * m


def problem(size: dict, dtype: str = "float32"):
    return mtrl.draw_problem(mtrl.Config(**size, dtype=dtype))


def ours(size: dict, tasks, net) -> None:
    mtrl.pretrain(net, tasks, n1=size["n1"], n2=size["n2"], generator=torch.Generator(), **STEPS)


def careful_peer(size: dict, tasks, net) -> None:
    batch = mtrl.pretraining_batches(tasks, n1=size["n1"], n2=size["n2"], seed=0)
    reference_round(net, batch, algorithm="heads_first", **STEPS)


def module_peer(size: dict, tasks, net) -> None:
    batch = mtrl.pretraining_batches(tasks, n1=size["n1"], n2=size["n2"], seed=0)
    module_round(net, batch, **STEPS)


def check_peers(size: dict) -> float:
    """Return the largest relative difference between either peer's W and ours, in float64."""
    tasks, net = problem(size, "float64")
    generator = torch.Generator().manual_seed(0)
    fast = mtrl.pretrain(net, tasks, n1=size["n1"], n2=size["n2"], generator=generator, **STEPS)
    seed = mtrl.seeds.draw_seed(torch.Generator().manual_seed(0))
    batch = mtrl.pretraining_batches(tasks, n1=size["n1"], n2=size["n2"], seed=seed)
    W_careful, _ = reference_round(net, batch, algorithm="heads_first", **STEPS)
    W_module = module_round(net, batch, **STEPS)
    return max(
        ((fast.network.W - W_peer).abs().max() / W_peer.abs().max()).item()
        for W_peer in (W_careful, W_module)
    )


def training_peers(size: dict, tasks, net, seed: int, rounds: int) -> dict:
    """Return the three training loops on the same data: ours, the torch.nn one, the batched
    autograd one, each a function of no arguments that returns ``W``."""
    n = dict(n1=size["n1"], n2=size["n2"])
    steps = {**TRAINING_STEPS, "rounds": rounds}

    def ours():
        generator = torch.Generator().manual_seed(0)  # draws the data seed `seed`
        return mtrl.pretrain(net, tasks, **n, **steps, log_every=rounds, generator=generator)

    return {
        "ours": lambda: ours().network.W,
        "module": lambda: module_training(net, tasks, **n, **steps, seed=seed),
        "batched": lambda: batched_autograd_training(net, tasks, **n, **steps, seed=seed),
    }


def training_run(repeats: int) -> dict:
    """Check the training peers against ours (float64, small, 5 steps); then time the three on
    ``TRAINING`` interleaved with the matmul (best of ``repeats``, after a 20-step warm-up)."""
    seed = mtrl.seeds.draw_seed(torch.Generator().manual_seed(0))
    small = dict(d=12, r=2, m=9, T=40, n1=7, n2=5)
    fns = training_peers(small, *problem(small, "float64"), seed, rounds=5)
    W = {name: fn() for name, fn in fns.items()}
    difference = max(((W["ours"] - W[p]).abs().max() / W[p].abs().max()).item()
                     for p in ("module", "batched"))  # fmt: skip
    if difference > 1e-10:
        raise SystemExit(f"a training peer and mtrl.pretrain disagree: {difference:.1e}")
    tasks, net = problem(TRAINING)
    for fn in training_peers(TRAINING, tasks, net, seed, rounds=20).values():
        fn()
    fns = {
        "matmul": matmul(),
        **training_peers(TRAINING, tasks, net, seed, TRAINING_STEPS["rounds"]),
    }
    best = best_times(fns, repeats, warm_up=False)  # warmed up by the 20-step runs above
    rate = 2 * MATMUL_SIZE**3 / best["matmul"] / 1e9
    gflops = round_flops(**TRAINING) * TRAINING_STEPS["rounds"] / best["ours"] / 1e9
    return {
        "size": TRAINING, "steps": TRAINING_STEPS,
        "peers_max_relative_difference_float64": difference,
        "matmul_gflops": rate, "seconds": best["ours"], "gflops": gflops,
        "fraction_of_matmul": gflops / rate,
        "module_peer_seconds": best["module"],
        "speedup_over_module_peer": best["module"] / best["ours"],
        "batched_autograd_seconds": best["batched"],
        "speedup_over_batched_autograd": best["batched"] / best["ours"],
    }  # fmt: skip


MEMORY_SCRIPT = """
import resource, sys, time, torch, mtrl
size = {size}
tasks, net = mtrl.draw_problem(mtrl.Config(**size))
start = time.perf_counter()
mtrl.pretrain(net, tasks, n1=size["n1"], n2=size["n2"], generator=torch.Generator())
elapsed = time.perf_counter() - start
print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def memory_run(size: dict) -> tuple[float, float]:
    """Run one round in a fresh process; return its time (s) and peak RSS (MiB)."""
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT.format(size=size)],
        check=True,
        capture_output=True,
        text=True,
    )
    elapsed, rss = out.stdout.split()
    return float(elapsed), float(rss)


def sweep_run() -> dict:
    """Run the sweep in this process, then on a fresh process pool; return times and the
    largest relative difference of the final ``W`` between the two."""
    base = mtrl.Config(**SWEEP_BASE)
    start = time.perf_counter()
    here = mtrl.sweep(base, cache=None, **SWEEP_GRID)
    in_process = time.perf_counter() - start
    start = time.perf_counter()
    workers = os.cpu_count() or 1
    with mtrl.process_pool(workers) as pool:
        pool.submit(int).result()  # the workers are started: start-up measured apart
        ready = time.perf_counter()
        pooled = mtrl.sweep(base, cache=None, executor=pool, **SWEEP_GRID)
        end = time.perf_counter()
    return {
        "base": SWEEP_BASE,
        "grid": SWEEP_GRID,
        "points": len(here),
        "in_process_seconds": in_process,
        "pool_workers": workers,
        "pool_startup_seconds": ready - start,
        "pool_seconds": end - ready,
        "max_relative_difference": max(
            ((a.W - b.W).abs().max() / b.W.abs().max()).item()
            for a, b in zip(here, pooled, strict=True)
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    difference = check_peers(dict(d=12, r=2, m=9, T=40, n1=7, n2=5))
    if difference > 1e-10:
        raise SystemExit(f"a peer and mtrl.pretrain disagree: {difference:.1e}")
    results = {
        "machine": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "peers_max_relative_difference_float64": difference,
        "workloads": {},
    }
    for name, size in WORKLOADS.items():
        tasks, net = problem(size)
        fns = {
            "matmul": matmul(),
            "ours": lambda: ours(size, tasks, net),  # noqa: B023
            "module": lambda: module_peer(size, tasks, net),  # noqa: B023
            "careful": lambda: careful_peer(size, tasks, net),  # noqa: B023
        }
        best = best_times(fns, args.repeats)
        rate = 2 * MATMUL_SIZE**3 / best["matmul"] / 1e9
        gflops = round_flops(**size) / best["ours"] / 1e9
        results["workloads"][name] = {
            "size": size,
            "matmul_gflops": rate,
            "seconds": best["ours"],
            "gflops": gflops,
            "fraction_of_matmul": gflops / rate,
            "module_peer_seconds": best["module"],
            "speedup_over_module_peer": best["module"] / best["ours"],
            "careful_peer_seconds": best["careful"],
            "speedup_over_careful_peer": best["careful"] / best["ours"],
        }
    results["training"] = training_run(max(2, args.repeats // 2))
    elapsed, rss = memory_run(MEMORY_WORKLOAD)
    results["memory"] = {"size": MEMORY_WORKLOAD, "seconds": elapsed, "peak_rss_mib": rss}
    results["sweep"] = sweep_run()
    report(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


def report(results: dict) -> None:
    """Print the results as a table, then as JSON."""
    print(
        f"torch {results['torch']}, {results['threads']} threads; 'peak' = float32 matmul rate "
        f"({MATMUL_SIZE}^3, this process), timed interleaved with each workload's rounds"
    )
    print(
        "peers vs mtrl.pretrain, float64: largest relative difference "
        f"{results['peers_max_relative_difference_float64']:.1e}"
    )
    print("peers (data drawing included, as for mtrl): 'nn.Module' = one torch.nn model per")
    print("  task, loss.backward() and an SGD step per head; 'careful' = the same loop taking")
    print("  only the gradients it needs (tests/reference.py)")
    print(
        f"{'workload':17s} {'(d, r, m, T, n1, n2)':31s} {'peak':>5s} {'time s':>7s} "
        f"{'GFLOP/s':>8s} {'of peak':>8s} {'nn.Module s':>12s} {'x':>6s} {'careful s':>10s} "
        f"{'x':>6s}"
    )
    for name, w in results["workloads"].items():
        print(
            f"{name:17s} {tuple(w['size'].values())!s:31s} {w['matmul_gflops']:5.0f} "
            f"{w['seconds']:7.3f} "
            f"{w['gflops']:8.1f} {w['fraction_of_matmul']:8.0%} "
            f"{w['module_peer_seconds']:12.2f} {w['speedup_over_module_peer']:5.1f}x "
            f"{w['careful_peer_seconds']:10.2f} {w['speedup_over_careful_peer']:5.1f}x"
        )
    tr = results["training"]
    print(
        f"training, (d, r, m, T, n1, n2) = {tuple(tr['size'].values())}, {tr['steps']['rounds']} "
        f"steps ({tr['steps']['loss']}): {tr['seconds']:.2f} s, {tr['gflops']:.1f} GFLOP/s, "
        f"{tr['fraction_of_matmul']:.0%} of peak {tr['matmul_gflops']:.0f}; torch.nn loop "
        f"{tr['module_peer_seconds']:.1f} s ({tr['speedup_over_module_peer']:.1f}x); batched "
        f"autograd {tr['batched_autograd_seconds']:.2f} s "
        f"({tr['speedup_over_batched_autograd']:.1f}x); peers agree to "
        f"{tr['peers_max_relative_difference_float64']:.1e} (float64)"
    )
    mem = results["memory"]
    print(
        f"streamed round, (d, r, m, T, n1, n2) = {tuple(mem['size'].values())}: "
        f"{mem['seconds']:.1f} s, peak RSS {mem['peak_rss_mib']:.0f} MiB"
    )
    sw = results["sweep"]
    print(
        f"sweep, {sw['points']} points (Mechanism chapter's grid, uncached): in this process "
        f"{sw['in_process_seconds']:.1f} s; process pool of {sw['pool_workers']} workers "
        f"{sw['pool_seconds']:.1f} s after {sw['pool_startup_seconds']:.1f} s start-up; "
        f"largest relative difference of W {sw['max_relative_difference']:.1e}"
    )
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
