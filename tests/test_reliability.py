"""Interrupted and concurrent runs, and determinism across processes.

Each test starts real Python processes: one is killed with SIGKILL in the middle of writing a
cache entry, two write the same entry at once, and results computed in another process are
compared bit for bit with those computed here.
"""

import os
import signal
import subprocess
import sys
import textwrap

import pytest
import torch

import mtrl

SMALL = mtrl.Config(d=20, r=3, m=30, T=20, n1=15, n2=15)

# Slows down the moment between writing an entry's bytes and renaming it into place.
SLOW_WRITES = """
import os, sys, time
import mtrl.cache
calls = 0
def slow_fsync(fd, _fsync=os.fsync):
    global calls
    calls += 1
    _fsync(fd)
    if calls >= {pause_from}:
        print("writing", calls, flush=True)
        time.sleep({pause})
mtrl.cache.os.fsync = slow_fsync
"""


def _start(code: str, cache) -> subprocess.Popen:
    env = {**os.environ, "MTRL_CACHE": str(cache)}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _entries(cache):
    return sorted(p.name for p in cache.glob("*.pt")) if cache.exists() else []


def test_a_sweep_killed_mid_write_leaves_no_entry_and_reruns_identically(isolated_cache):
    code = (
        SLOW_WRITES.format(pause_from=2, pause=60)
        + f"""
import mtrl
mtrl.sweep(mtrl.{SMALL!r}, seed=[0, 1, 2])
"""
    )
    proc = _start(code, isolated_cache)
    line = proc.stdout.readline()  # the second entry is written, not yet renamed
    assert line.startswith("writing"), (line, proc.stderr.read() if proc.poll() else "")
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)  # reaps the process and closes its pipes
    assert proc.returncode == -signal.SIGKILL
    # the first entry is complete; the interrupted one never became visible
    assert len(_entries(isolated_cache)) == 1
    rerun = mtrl.sweep(SMALL, seed=[0, 1, 2])
    fresh = mtrl.sweep(SMALL, seed=[0, 1, 2], cache=None)
    for a, b in zip(rerun, fresh, strict=True):
        assert torch.equal(a.W, b.W) and torch.equal(a.energy, b.energy)
    assert len(_entries(isolated_cache)) == 3
    # the killed writer's temporary file is removed by a later write once it is a day old
    (leftover,) = isolated_cache.glob(".tmp-*")
    os.utime(leftover, (0, 0))
    mtrl.run(SMALL.replace(seed=3))
    assert not list(isolated_cache.glob(".tmp-*"))


def test_two_processes_writing_the_same_entry_leave_a_valid_one(isolated_cache):
    code = (
        SLOW_WRITES.format(pause_from=1, pause=1)
        + f"""
import mtrl, torch
res = mtrl.run(mtrl.{SMALL!r})
print("W", float(res.W.double().sum()))
"""
    )
    procs = [_start(code, isolated_cache) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
        assert "writing" in out  # both wrote, at overlapping times
    assert len(_entries(isolated_cache)) == 1
    assert not list(isolated_cache.glob(".tmp-*"))  # no temporary file is left behind
    cached = mtrl.run(SMALL)  # read back from the cache: it passes the checksum
    fresh = mtrl.run(SMALL, cache=None)
    assert torch.equal(cached.W, fresh.W)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_results_are_bit_identical_across_processes(dtype, tmp_path):
    config = SMALL.replace(dtype=dtype, rounds=2)
    out = tmp_path / "W.pt"
    code = f"""
import torch, mtrl
res = mtrl.run(mtrl.{config!r}, cache=None)
torch.save({{"W": res.W, "energy": res.energy}}, {str(out)!r})
"""
    proc = _start(code, tmp_path / "unused")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    theirs = torch.load(out, weights_only=True)
    ours = mtrl.run(config, cache=None)
    assert torch.equal(theirs["W"], ours.W) and torch.equal(theirs["energy"], ours.energy)
