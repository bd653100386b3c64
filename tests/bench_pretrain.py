"""Benchmark of one pretraining round against this machine's matmul rate and peers (`make bench`).

Prints, in one run: the float32 matmul rate measured in this process; for each workload the
time of one round (data drawing included), its GFLOP/s and fraction of the matmul rate, and the
times of two peers (`tests/reference.py`: Python loops over tasks with autograd, one written
with torch.nn modules and optimizers, one careful) with the speed-ups; and the peak memory of a
streamed round with 100 000 tasks. As a table, then as JSON. Before timing, it checks that both
peers compute the same W as `mtrl.pretrain` (float64). Nothing is asserted about speed.
"""

import argparse
import json
import platform
import subprocess
import sys
import time

import torch
from reference import module_round, reference_round

import mtrl

WORKLOADS = {
    "target size": dict(d=200, r=5, m=1000, T=1000, n1=200, n2=200),
    "many small tasks": dict(d=100, r=3, m=500, T=2000, n1=20, n2=20),
}
MEMORY_WORKLOAD = dict(d=100, r=3, m=500, T=100_000, n1=100, n2=100)
STEPS = dict(loss="logistic", eta_a=1.0, eta_w=1.0, lam=1.0)


def best_time(fn, repeats: int) -> float:
    """Return the best wall time of ``repeats`` calls of ``fn`` after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def matmul_rate(size: int = 4096, repeats: int = 5) -> float:
    """Return the float32 matmul rate of this process in GFLOP/s (best of ``repeats``)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    return 2 * size**3 / best_time(lambda: a @ b, repeats) / 1e9


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
    seed = mtrl.draw_data_seed(torch.Generator().manual_seed(0))
    batch = mtrl.pretraining_batches(tasks, n1=size["n1"], n2=size["n2"], seed=seed)
    W_careful, _ = reference_round(net, batch, algorithm="heads_first", **STEPS)
    W_module = module_round(net, batch, **STEPS)
    return max(
        ((fast.network.W - W_peer).abs().max() / W_peer.abs().max()).item()
        for W_peer in (W_careful, W_module)
    )


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    difference = check_peers(dict(d=12, r=2, m=9, T=40, n1=7, n2=5))
    if difference > 1e-10:
        raise SystemExit(f"a peer and mtrl.pretrain disagree: {difference:.1e}")
    rate = matmul_rate()
    results = {
        "machine": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "matmul_gflops": rate,
        "peers_max_relative_difference_float64": difference,
        "workloads": {},
    }
    for name, size in WORKLOADS.items():
        tasks, net = problem(size)
        seconds = best_time(lambda: ours(size, tasks, net), args.repeats)  # noqa: B023
        module = best_time(lambda: module_peer(size, tasks, net), 2)  # noqa: B023
        careful = best_time(lambda: careful_peer(size, tasks, net), 2)  # noqa: B023
        gflops = round_flops(**size) / seconds / 1e9
        results["workloads"][name] = {
            "size": size,
            "seconds": seconds,
            "gflops": gflops,
            "fraction_of_matmul": gflops / rate,
            "module_peer_seconds": module,
            "speedup_over_module_peer": module / seconds,
            "careful_peer_seconds": careful,
            "speedup_over_careful_peer": careful / seconds,
        }
    elapsed, rss = memory_run(MEMORY_WORKLOAD)
    results["memory"] = {"size": MEMORY_WORKLOAD, "seconds": elapsed, "peak_rss_mib": rss}
    report(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


def report(results: dict) -> None:
    """Print the results as a table, then as JSON."""
    print(
        f"float32 matmul rate (4096^3, this process, {results['threads']} threads): "
        f"{results['matmul_gflops']:.0f} GFLOP/s"
    )
    print(
        "peers vs mtrl.pretrain, float64: largest relative difference "
        f"{results['peers_max_relative_difference_float64']:.1e}"
    )
    print("peers (data drawing included, as for mtrl): 'nn.Module' = one torch.nn model per")
    print("  task, loss.backward() and an SGD step per head; 'careful' = the same loop taking")
    print("  only the gradients it needs (tests/reference.py)")
    print(
        f"{'workload':17s} {'(d, r, m, T, n1, n2)':31s} {'time s':>7s} {'GFLOP/s':>8s} "
        f"{'of peak':>8s} {'nn.Module s':>12s} {'x':>6s} {'careful s':>10s} {'x':>6s}"
    )
    for name, w in results["workloads"].items():
        print(
            f"{name:17s} {tuple(w['size'].values())!s:31s} {w['seconds']:7.3f} "
            f"{w['gflops']:8.1f} {w['fraction_of_matmul']:8.0%} "
            f"{w['module_peer_seconds']:12.2f} {w['speedup_over_module_peer']:5.1f}x "
            f"{w['careful_peer_seconds']:10.2f} {w['speedup_over_careful_peer']:5.1f}x"
        )
    mem = results["memory"]
    print(
        f"streamed round, (d, r, m, T, n1, n2) = {tuple(mem['size'].values())}: "
        f"{mem['seconds']:.1f} s, peak RSS {mem['peak_rss_mib']:.0f} MiB"
    )
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
