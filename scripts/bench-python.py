#!/usr/bin/env python3
"""Issue 15's overhead figures: chainrule from Python against PyTorch from Python
and against chainrule's own Rust calls. Prints one line per measurement.

    target/python-venv/bin/python scripts/bench-python.py            # the figures
    target/python-venv/bin/python scripts/bench-python.py --k 50 --reps 1 --no-rust   # does it run

1. W1 of /work/shared/bench/WORKLOADS.md as a Python loop: leaves x = 0.5 and
   w = 0.9, K times h = tanh(h * w) + h * 0.1 (4 ops), then h.backward();
   ns/op = time(forward + backward) / (4K), on chainrule.torch and, if it
   imports, torch (float64 both). The target: chainrule at most 2x torch.
2. A Hessian (W4's quadratic, n = 100, torch.autograd.functional.hessian
   through chainrule.torch) from Python, against W4 chainrule-eager run in
   Rust by target/release/chainrule-bench.
3. nth derivatives (W5: d^k/dx^k tanh(x) at 0.5, k = 4, 8, 16) from Python
   as a user writes them, d = chainrule.autograd.nth_derivative(np.tanh, k)
   then d(0.5) (traced once, a float back), against the Rust call that W5's
   chainrule-taylor line times (forward::nth_derivative_at of tanh, the
   package's bench-only _native._bench_rust_tanh, a loop in Rust) plus one
   crossing. "One crossing" is defined as the time of a call from Python of
   a trivial pyo3 function taking and returning a float
   (_native._bench_echo(0.5)), called from the same Python loop as d(0.5),
   in the same run. The target: ratio = python_call / (rust_call + crossing)
   <= 1.10. Each callable is warmed up (one untimed batch) before it is
   timed; then --reps rounds each time one batch of every callable back to
   back (d, echo, Rust), and the figures are the medians over the rounds
   (the ratio is the median of the per-round ratios).

Run it on an idle machine: the figures are medians of --reps repetitions.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

import chainrule.sympy as sp
import chainrule.torch as ctorch

try:
    import torch as real_torch
except ImportError:  # PyTorch is optional: the chainrule figures stand alone.
    real_torch = None

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def batch(fn, x, calls):
    """Wall time per call of fn(x) over `calls` calls, written as a user
    writes a call (not fn(*args), which takes another path in CPython)."""
    loop = range(calls)
    t0 = time.perf_counter()
    for _ in loop:
        fn(x)
    return (time.perf_counter() - t0) / calls


def per_call(fn, reps, calls=2000):
    """Median over reps batches of the wall time per call of fn() in a
    batch of `calls` calls (after one untimed warm-up batch)."""
    loop = range(calls)
    times = []
    for i in range(reps + 1):
        t0 = time.perf_counter()
        for _ in loop:
            fn()
        if i:
            times.append((time.perf_counter() - t0) / calls)
    return statistics.median(times)


def median_time(fn, reps):
    """Median wall time of fn() over reps runs (after one warm-up run)."""
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def w1(torch, k):
    """W1 forward and backward; returns dh/dw as the check."""
    x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    w = torch.tensor(0.9, dtype=torch.float64, requires_grad=True)
    h = x
    for _ in range(k):
        h = torch.tanh(h * w) + h * 0.1
    h.backward()
    return w.grad.item()


def quadratic(torch, n, seed=0):
    """W4's quadratic f(x) = ½ xᵀAx + bᵀx + c, its data, and a point."""
    rng = np.random.default_rng(seed)
    a = torch.tensor(rng.standard_normal((n, n)), dtype=torch.float64)
    b = torch.tensor(rng.standard_normal(n), dtype=torch.float64)
    x = torch.tensor(rng.standard_normal(n), dtype=torch.float64)

    def f(v):
        return 0.5 * (v * torch.matmul(a, v)).sum() + (b * v).sum() + 1.5

    return f, x


def rust_bench(binary, workload, impl, reps):
    """The Rust figures of a workload: {size: seconds} from chainrule-bench's JSON lines."""
    if not os.path.exists(binary):
        return {}
    args = [binary, "--workload", workload, "--impl", impl]
    args += ["--quick"] if reps < 7 else []
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=1800, check=True).stdout
    except (subprocess.SubprocessError, OSError) as e:
        print(f"# {binary} failed: {e}", file=sys.stderr)
        return {}
    figures = {}
    for line in out.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        value = rec.get("seconds")
        if isinstance(value, (int, float)):
            figures[str(rec.get("size"))] = float(value)
    return figures


def line(what, value, unit, ratio=None, against=None):
    text = f"{what:<44} {value:12.4g} {unit}"
    if ratio is not None:
        text += f"   {ratio:6.2f}x {against}"
    print(text, flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--k", type=int, default=25_000, help="W1 iterations (4 ops each; default 25000)")
    p.add_argument("--reps", type=int, default=7, help="repetitions per figure (median)")
    p.add_argument("--n", type=int, default=100, help="W4 size")
    p.add_argument("--rust", default=os.path.join(ROOT, "target", "release", "chainrule-bench"))
    p.add_argument("--no-rust", action="store_true", help="skip the Rust figures")
    a = p.parse_args()

    print(f"# chainrule from Python; torch {'%s' % real_torch.__version__ if real_torch else 'not installed'}")
    ops = 4 * a.k
    # 1. W1 as a Python loop.
    t_cr = median_time(lambda: w1(ctorch, a.k), a.reps)
    check = w1(ctorch, a.k)
    line(f"W1 chainrule.torch K={a.k} (dh/dw {check:.6g})", t_cr / ops * 1e9, "ns/op")
    if real_torch is not None:
        t_pt = median_time(lambda: w1(real_torch, a.k), a.reps)
        line(f"W1 torch K={a.k} (dh/dw {w1(real_torch, a.k):.6g})", t_pt / ops * 1e9, "ns/op")
        line("W1 chainrule.torch / torch", t_cr / t_pt, "", t_cr / t_pt, "(target <= 2)")

    # 2. A Hessian and nth derivatives, from Python and in Rust.
    rust_w4 = {} if a.no_rust else rust_bench(a.rust, "W4", "chainrule-eager", a.reps)
    f, x = quadratic(ctorch, a.n)
    t_h = median_time(lambda: ctorch.autograd.functional.hessian(f, x), a.reps)
    rust = rust_w4.get(f"quadratic,n={a.n}")
    if rust:
        line(f"W4 quadratic n={a.n} hessian from Python", t_h, "s/hessian", t_h / rust, "of Rust")
    else:
        line(f"W4 quadratic n={a.n} hessian from Python", t_h, "s/hessian")
    if real_torch is not None:
        f_pt, x_pt = quadratic(real_torch, a.n)
        t_hp = median_time(lambda: real_torch.autograd.functional.hessian(f_pt, x_pt), a.reps)
        line(f"W4 quadratic n={a.n} hessian, torch", t_hp, "s/hessian")
    # 3. nth derivatives: Python, the Rust call, one crossing, back to back.
    from chainrule import _native
    from chainrule.autograd import nth_derivative
    import chainrule.autograd.numpy as cnp

    reps = max(a.reps, 3)
    echo = _native._bench_echo
    calls = 2000
    for k in (4, 8, 16):
        d = nth_derivative(cnp.tanh, k)
        value = d(0.5)
        # Warm-up: one untimed batch of each callable.
        batch(d, 0.5, calls)
        batch(echo, 0.5, calls)
        _native._bench_rust_tanh(k, 0.5, calls)
        _native._bench_replay(d.__self__, 0.5, calls)
        rounds = []
        for _ in range(reps):
            t_py = batch(d, 0.5, calls)
            t_cross = batch(echo, 0.5, calls)
            t_rust = _native._bench_rust_tanh(k, 0.5, calls)
            rounds.append((t_py, t_cross, t_rust, t_py / (t_rust + t_cross)))
        t_py, t_cross, t_rust, ratio = (statistics.median(r[i] for r in rounds) for i in range(4))
        t_replay = statistics.median(_native._bench_replay(d.__self__, 0.5, calls) for _ in range(reps))
        line(f"W5 d^{k} tanh at 0.5 = {value:.10g}, d(0.5) from Python", t_py * 1e9, "ns")
        line(f"W5 k={k} Rust nth_derivative_at (the W5 line's call)", t_rust * 1e9, "ns")
        line(f"W5 k={k} one crossing (_bench_echo(0.5) from the same loop)", t_cross * 1e9, "ns")
        line(f"W5 k={k} the traced plan's replay, in Rust", t_replay * 1e9, "ns")
        line(f"W5 k={k} Python / (Rust + one crossing)", ratio, "", ratio, "(target <= 1.10)")
    # The formula API (a list of k + 1 derivatives back).
    x = sp.symbols("x")
    f = sp.tanh(x)
    for k in (4, 16):
        t_n = per_call(lambda: sp.taylor_derivatives(f, x, 0.5, k), reps)
        line(f"W5 sympy taylor_derivatives(tanh, k={k}) (a list)", t_n * 1e9, "ns")
    # One crossing as before: the cost of calling into the extension at all.
    t_cross = per_call(lambda: ctorch.is_grad_enabled(), reps)
    line("one crossing (torch.is_grad_enabled())", t_cross * 1e9, "ns")

if __name__ == "__main__":
    main()
