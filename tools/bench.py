"""Benchmarks: dlnotes kernels against PyTorch, and the course's own build and validation.

Usage (from the repository root, in the course's .venv; `make bench` does this):

    python tools/bench.py [--kernels-only] [--repeats N] [--publish]

Kernels: each dlnotes forward+backward is timed against its torch counterpart on the CPU in
the same process, interleaved (ours, torch, ours, torch, ...) so that drift in the machine's
speed hits both alike; the table shows median times and the ratio ours / torch (below 1:
dlnotes is faster). Course: `import dlnotes`, nbval of each notebook on its own, nbval of the
whole course with two workers, and `jupyter-book build` from clean.

Results go to _build/bench/results.json; with --publish also to reference/bench/ (the table
and figure that the book's performance page shows).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from dlnotes.verify import torch_recurrent

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "_build" / "bench"
PUBLISH = ROOT / "reference" / "bench"


class Case(NamedTuple):
    name: str
    dtype: str
    setup: Callable  # rng, dtype -> (ours: () -> None, theirs: () -> None)
    target: float | None  # the largest acceptable ratio ours / torch, if the issue sets one


def _t(a, grad=False):
    return torch.tensor(a, requires_grad=grad)


def conv2d_case(rng, dtype):
    from dlnotes.conv import conv2d_backward, conv2d_forward
    x = rng.standard_normal((32, 16, 32, 32)).astype(dtype)
    w = rng.standard_normal((32, 16, 3, 3)).astype(dtype)
    b = rng.standard_normal(32).astype(dtype)
    dout = rng.standard_normal((32, 32, 32, 32)).astype(dtype)
    tx, tw, tb, td = _t(x, True), _t(w, True), _t(b, True), _t(dout)

    def ours():
        out, cache = conv2d_forward(x, w, b, pad=1)
        conv2d_backward(dout, cache)

    def theirs():
        F.conv2d(tx, tw, tb, padding=1).backward(td)
    return ours, theirs


def maxpool_case(rng, dtype):
    from dlnotes.pooling import maxpool2d_backward, maxpool2d_forward
    x = rng.standard_normal((32, 32, 32, 32)).astype(dtype)
    dout = rng.standard_normal((32, 32, 16, 16)).astype(dtype)
    tx, td = _t(x, True), _t(dout)

    def ours():
        out, cache = maxpool2d_forward(x, 2)
        maxpool2d_backward(dout, cache)

    def theirs():
        F.max_pool2d(tx, 2).backward(td)
    return ours, theirs


def conv_transpose_case(rng, dtype):
    from dlnotes.conv_transpose import conv_transpose2d_backward, conv_transpose2d_forward
    x = rng.standard_normal((32, 16, 16, 16)).astype(dtype)
    w = rng.standard_normal((16, 8, 4, 4)).astype(dtype)
    b = rng.standard_normal(8).astype(dtype)
    dout = rng.standard_normal((32, 8, 32, 32)).astype(dtype)
    tx, tw, tb, td = _t(x, True), _t(w, True), _t(b, True), _t(dout)

    def ours():
        out, cache = conv_transpose2d_forward(x, w, b, stride=2, pad=1)
        conv_transpose2d_backward(dout, cache)

    def theirs():
        F.conv_transpose2d(tx, tw, tb, stride=2, padding=1).backward(td)
    return ours, theirs


def dense_case(rng, dtype):
    from dlnotes.layers import dense_backward, dense_forward
    x = rng.standard_normal((256, 512)).astype(dtype)
    w = rng.standard_normal((512, 512)).astype(dtype)
    b = rng.standard_normal(512).astype(dtype)
    dout = rng.standard_normal((256, 512)).astype(dtype)
    tx, tw, tb, td = _t(x, True), _t(w, True), _t(b, True), _t(dout)

    def ours():
        out, cache = dense_forward(x, w, b)
        dense_backward(dout, cache)

    def theirs():
        F.linear(tx, tw, tb).backward(td)
    return ours, theirs


def _recurrent_case(kind: str):
    def setup(rng, dtype):
        from dlnotes import gated, rnn
        T, N, D, H = 50, 32, 64, 128
        gates = {"rnn": 1, "gru": 3, "lstm": 4}[kind]
        x = rng.standard_normal((T, N, D)).astype(dtype)
        h0 = rng.standard_normal((N, H)).astype(dtype)
        c0 = rng.standard_normal((N, H)).astype(dtype)
        s = 1 / np.sqrt(H)
        w_ih = rng.uniform(-s, s, (gates * H, D)).astype(dtype)
        w_hh = rng.uniform(-s, s, (gates * H, H)).astype(dtype)
        b_ih = rng.uniform(-s, s, gates * H).astype(dtype)
        b_hh = rng.uniform(-s, s, gates * H).astype(dtype)
        dh = rng.standard_normal((T, N, H)).astype(dtype)
        # torch's layer with the same weights (as parameters that need gradients, like a
        # module's own), run through the helper the tests and chapters use.
        reference = torch_recurrent(kind)
        tw = [_t(w, True) for w in (w_ih, w_hh, b_ih, b_hh)]
        tx, th0, tc0, tdh = _t(x, True), _t(h0, True), _t(c0, True), _t(dh)

        if kind == "lstm":
            def ours():
                h, cache = gated.lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
                gated.lstm_backward(dh, cache)

            def theirs():
                reference(tx, th0, tc0, *tw).backward(tdh)
        else:
            fwd, bwd = ((rnn.rnn_forward, rnn.rnn_backward) if kind == "rnn"
                        else (gated.gru_forward, gated.gru_backward))

            def ours():
                h, cache = fwd(x, h0, w_ih, w_hh, b_ih, b_hh)
                bwd(dh, cache)

            def theirs():
                reference(tx, th0, *tw).backward(tdh)
        return ours, theirs
    return setup


def attention_case(rng, dtype):
    from dlnotes.attention import (
        scaled_dot_product_attention,
        scaled_dot_product_attention_backward,
    )
    shape = (8, 4, 128, 64)
    q, k, v, dout = (rng.standard_normal(shape).astype(dtype) for _ in range(4))
    tq, tk, tv, td = _t(q, True), _t(k, True), _t(v, True), _t(dout)

    def ours():
        out, cache = scaled_dot_product_attention(q, k, v)
        scaled_dot_product_attention_backward(dout, cache)

    def theirs():
        F.scaled_dot_product_attention(tq, tk, tv).backward(td)
    return ours, theirs


def cross_entropy_case(rng, dtype):
    from dlnotes.losses import cross_entropy
    logits = rng.standard_normal((1024, 1000)).astype(dtype)
    target = rng.integers(0, 1000, 1024)
    tl, tt = _t(logits, True), torch.from_numpy(target)

    def ours():
        cross_entropy(logits, target)

    def theirs():
        F.cross_entropy(tl, tt).backward()
    return ours, theirs


CASES = [
    Case("conv2d fwd+bwd (32,16,32,32) * (32,16,3,3), pad 1", "float64", conv2d_case, 1.0),
    Case("conv2d fwd+bwd (32,16,32,32) * (32,16,3,3), pad 1", "float32", conv2d_case, 3.0),
    Case("max-pool 2x2 fwd+bwd (32,32,32,32)", "float64", maxpool_case, 3.0),
    Case("conv-transpose fwd+bwd (32,16,16,16) * (16,8,4,4), s 2", "float64",
         conv_transpose_case, None),
    Case("dense fwd+bwd (256,512) * (512,512)", "float64", dense_case, None),
    Case("RNN fwd+bwd T=50 N=32 D=64 H=128", "float64", _recurrent_case("rnn"), None),
    Case("GRU fwd+bwd T=50 N=32 D=64 H=128", "float64", _recurrent_case("gru"), None),
    Case("LSTM fwd+bwd T=50 N=32 D=64 H=128", "float64", _recurrent_case("lstm"), 1.5),
    Case("attention fwd+bwd (8,4,128,64)", "float64", attention_case, 1.5),
    Case("softmax cross-entropy loss+grad (1024,1000)", "float64", cross_entropy_case, None),
]


def time_pair(ours, theirs, repeats: int) -> tuple[float, float]:
    """Median seconds of each function over ``repeats`` interleaved calls, after warm-up."""
    for _ in range(2):
        ours()
        theirs()
    a, b = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        ours()
        t1 = time.perf_counter()
        theirs()
        t2 = time.perf_counter()
        a.append(t1 - t0)
        b.append(t2 - t1)
    return statistics.median(a), statistics.median(b)


def bench_kernels(repeats: int) -> list[dict]:
    rows = []
    for case in CASES:
        rng = np.random.default_rng(0)
        dtype = np.float64 if case.dtype == "float64" else np.float32
        ours, theirs = case.setup(rng, dtype)
        t_ours, t_torch = time_pair(ours, theirs, repeats)
        ratio = t_ours / t_torch
        rows.append({"kernel": case.name, "dtype": case.dtype, "dlnotes_ms": 1e3 * t_ours,
                     "torch_ms": 1e3 * t_torch, "ratio": ratio, "target": case.target,
                     "met": None if case.target is None else bool(ratio <= case.target)})
        print(f"  {case.name} [{case.dtype}]: {ratio:.2f}x", flush=True)
    return rows


def bench_bpe() -> dict | None:
    try:
        from dlnotes.bpe import BPETokenizer
    except ImportError:
        return None
    from dlnotes.corpus import corpus_text, template_corpus
    text = corpus_text(template_corpus(3000, np.random.default_rng(0)))
    tok = BPETokenizer()
    tok.train(text, 512)
    times, n_tokens = [], 0
    for _ in range(3):
        fresh = BPETokenizer()
        fresh.train(text, 512)  # a fresh tokenizer: no cached encodings from an earlier run
        t0 = time.perf_counter()
        n_tokens = len(fresh.encode(text))
        times.append(time.perf_counter() - t0)
    seconds = statistics.median(times)
    return {"tokens": n_tokens, "bytes": len(text.encode()),
            "tokens_per_second": n_tokens / seconds}


def _python(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=ROOT).stdout.strip()


def bench_import() -> dict:
    probe = ("import time; w = time.perf_counter(); c = time.process_time(); import dlnotes; "
             "print(time.perf_counter() - w, time.process_time() - c)")
    runs = [tuple(map(float, _python(probe).split())) for _ in range(5)]
    return {"wall_s": min(r[0] for r in runs), "cpu_s": min(r[1] for r in runs)}


def _timed(cmd: list[str], env: dict | None = None) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        sys.stderr.write((done.stdout + done.stderr)[-4000:])
        raise SystemExit(f"bench: {' '.join(cmd[:3])} ... failed (exit {done.returncode})")
    return seconds


def bench_course() -> dict:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    nbval = [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env",
             "--nbval-sanitize-with", "sanitize.cfg", "-q", "-p", "no:cacheprovider"]
    notebooks = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "chapters").rglob("*.ipynb")
                       if ".ipynb_checkpoints" not in p.parts)
    per_notebook = {}
    for nb in notebooks:
        per_notebook[nb] = _timed(nbval + [nb], env)
        print(f"  nbval {nb}: {per_notebook[nb]:.1f} s", flush=True)
    whole = _timed(nbval + ["-n", "2", "--dist", "loadscope"] + notebooks, env)
    print(f"  nbval, whole course, 2 workers: {whole:.1f} s", flush=True)
    for stale in ("html", ".doctrees", "jupyter_execute"):
        subprocess.run(["rm", "-rf", str(ROOT / "_build" / stale)], check=True)
    book = _timed([str(Path(sys.executable).parent / "jupyter-book"), "build", ".", "-W", "-n",
                   "--keep-going"])
    print(f"  jupyter-book build from clean: {book:.1f} s", flush=True)
    return {"nbval_per_notebook_s": dict(sorted(per_notebook.items(), key=lambda kv: -kv[1])),
            "nbval_whole_course_s": whole, "book_from_clean_s": book}


def table(results: dict) -> str:
    lines = ["| kernel | dtype | dlnotes (ms) | torch (ms) | ratio | target |",
             "| --- | --- | ---: | ---: | ---: | --- |"]
    for r in results["kernels"]:
        target = "" if r["target"] is None else (
            f"<= {r['target']:g}x: {'met' if r['met'] else 'missed'}")
        lines.append(f"| {r['kernel']} | {r['dtype']} | {r['dlnotes_ms']:.1f} | "
                     f"{r['torch_ms']:.1f} | {r['ratio']:.2f} | {target} |")
    imp = results["import"]
    lines += ["", "| course | measured | target |", "| --- | ---: | --- |"]
    if results.get("bpe"):
        # A throughput, not a time: its own row in the table of measurements.
        b = results["bpe"]
        lines.append(f"| BPE encoding of the course corpus ({b['bytes']:,} bytes, vocabulary "
                     f"512) | {b['tokens_per_second']:,.0f} tokens/s | |")
    lines += [
              f"| `import dlnotes` (wall, best of 5) | {imp['wall_s']:.3f} s | <= 0.3 s: "
              f"{'met' if imp['wall_s'] <= 0.3 else 'missed'} |"]
    course = results.get("course")
    if course:
        slowest, seconds = next(iter(course["nbval_per_notebook_s"].items()))
        lines += [f"| slowest notebook under nbval ({slowest}) | {seconds:.1f} s | <= 30 s: "
                  f"{'met' if seconds <= 30 else 'missed'} |",
                  "| nbval of the whole course, 2 workers | "
                  f"{course['nbval_whole_course_s']:.0f} s "
                  f"| <= 240 s: {'met' if course['nbval_whole_course_s'] <= 240 else 'missed'} |",
                  f"| `jupyter-book build` from clean | {course['book_from_clean_s']:.0f} s | "
                  f"<= 60 s: {'met' if course['book_from_clean_s'] <= 60 else 'missed'} |"]
    return "\n".join(lines) + "\n"


def figure(results: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = results["kernels"]
    labels = [f"{r['kernel'].split(' (')[0].split(' T=')[0]} [{r['dtype']}]" for r in rows]
    ratios = [r["ratio"] for r in rows]
    fig, ax = plt.subplots(figsize=(9.5, 4.5))
    colours = ["tab:green" if r["met"] else "tab:red" if r["met"] is False else "tab:blue"
               for r in rows]
    ax.barh(labels[::-1], ratios[::-1], color=colours[::-1])
    ax.axvline(1.0, color="k", lw=1)
    for r in rows:
        if r["target"] is not None:
            y = len(rows) - 1 - rows.index(r)
            ax.plot([r["target"]] * 2, [y - 0.4, y + 0.4], color="k", ls="--", lw=1)
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    ax.legend(handles=[Patch(color="tab:green", label="target met"),
                       Patch(color="tab:red", label="target missed"),
                       Patch(color="tab:blue", label="no target"),
                       Line2D([], [], color="k", ls="--", lw=1, label="target ratio")],
              loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    ax.set_xlabel("time of dlnotes / time of torch (median; < 1 means dlnotes is faster)")
    ax.set_title(f"forward + backward on the CPU, {results['machine']['cores']} cores")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernels-only", action="store_true")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--publish", action="store_true")
    args = parser.parse_args()
    results = {"machine": {"cores": os.cpu_count(), "processor": platform.processor() or
                           platform.machine(), "python": platform.python_version(),
                           "numpy": np.__version__, "torch": torch.__version__,
                           "torch_threads": torch.get_num_threads()}}
    print(f"kernels ({args.repeats} interleaved repeats each, medians):", flush=True)
    results["kernels"] = bench_kernels(args.repeats)
    results["bpe"] = bench_bpe()
    results["import"] = bench_import()
    if not args.kernels_only:
        print("course:", flush=True)
        results["course"] = bench_course()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    text = table(results)
    print()
    print(text)
    figure(results, OUT / "ratios.png")
    if args.publish:
        PUBLISH.mkdir(parents=True, exist_ok=True)
        (PUBLISH / "results.json").write_text(json.dumps(results, indent=2) + "\n")
        (PUBLISH / "table.md").write_text(text)
        figure(results, PUBLISH / "ratios.png")
    print(f"wrote {OUT / 'results.json'} and {OUT / 'ratios.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
