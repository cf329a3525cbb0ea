"""One training step of nnlib against PyTorch and a hand-fused NumPy step, on one CPU thread.

    python benchmarks/train_step.py            # or: make bench
    python benchmarks/train_step.py --rounds 31 --batches 1 32 512

All four run 784-128-64-10 with the same initial weights on the same MNIST batch
(random pixels when MNIST is not available), SGD, float32:
  nnlib     nnlib.step.TrainStep, the step nnlib.train.fit runs: the library's layers,
            loss and optimizer, planned once into preallocated buffers;
  readable  model.loss + optim.SGD.step, the form the notebooks teach: fresh arrays
            for every activation and gradient, a temporary for every update;
  torch     nn.Sequential, cross_entropy, backward, torch.optim.SGD;
  fused     the same maths written as one NumPy function with no library structure,
            preallocated buffers and in-place updates: the NumPy limit.
readable/fused is the lesson in what an abstraction costs when every layer returns new
arrays; nnlib/fused, what is left of that cost once the arrays are planned.
The script checks that all four compute the same loss on that batch, then times them
interleaved, round after round (the order rotates), so that a burst of load from other
processes hits all alike; each ratio quoted is the median of the per-round ratios.
The machine's single-thread SGEMM rate (a 1024^3 float32 matmul) is measured in the
same rounds and is the "peak" the achieved GFLOP/s are compared with.

One thread: the script always re-runs itself in a fresh process with every BLAS/OpenMP
thread variable set to 1, because a limit applied after NumPy or torch has loaded its
thread pool may not reach it (threadpoolctl only limits libraries already loaded, and
NumPy is imported lazily here). The child prints the BLAS library and kernel that ran
and the thread counts it read back, and refuses to time with more than one thread.

Every array of nnlib's step, of the fused step and the batch itself start on a 64-byte
boundary (nnlib.aligned), so no column gains from where the allocator happened to put it.

Each figure is checked against a plain loop: after the rounds, nnlib's step is timed
again as `for _ in range(n): step()` in one block; the benchmark's median must agree
with it within AGREEMENT (otherwise the benchmark measured something else than the
step, and the script says so and exits 1).

FLOPs counted per step: 2 B n_in n_out for every forward matmul and every
weight gradient, plus the input gradients of layers 2 and up (the first
layer's input gradient is not needed, and no implementation computes it).
Elementwise work (bias, ReLU, softmax, update) is not counted.

Not a test: timings depend on the machine and on what else runs on it.
"""

import argparse
import os
import subprocess
import sys
import time

SIZES = (784, 128, 64, 10)
TARGETS = {32: 1.4, 512: 1.0}       # nnlib / torch speed ratio wanted at these batch sizes
FUSED_TARGET = 0.9                  # nnlib / fused speed wanted at every batch size
PEAK_TARGET = (512, 0.65)           # fraction of single-thread SGEMM rate wanted at batch 512
AGREEMENT = 0.25                    # largest relative gap between the benchmark and a plain loop
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
CHILD_MARK = "NNLIB_BENCH_ONE_THREAD"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32, 128, 512])
    parser.add_argument("--rounds", type=int, default=21, help="interleaved timing rounds per batch size")
    parser.add_argument("--seconds", type=float, default=0.05, help="time per implementation per round")
    parser.add_argument("--lr", type=float, default=1e-3)
    return parser.parse_args(argv)


def rerun_single_threaded(argv):
    """Run this script again in a fresh process with every thread variable set to 1."""
    env = dict(os.environ, **{var: "1" for var in THREAD_VARS}, **{CHILD_MARK: "1"})
    return subprocess.call([sys.executable, os.path.abspath(__file__), *argv], env=env)


def threads_report():
    """(one line naming the BLAS kernel and thread counts, whether every count is 1)."""
    import torch

    from nnlib import sysinfo, timing

    blas, how = timing.blas_threads()
    line = (f"{sysinfo.blas_library()}, {blas} BLAS thread(s) (read via {how}); "
            f"torch {torch.__version__} with {torch.get_num_threads()} thread(s); "
            f"CPU {sysinfo.cpu_model()}")
    return line, blas in (1, None) and torch.get_num_threads() == 1


def load_batch(batch, *, seed=0):
    """(X float32 (batch, 784), y int64, source) from MNIST, or random pixels without it."""
    import numpy as np

    from nnlib import data

    try:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the CI copy is a 10,000-image subset: fine here
            images, labels = data.load_mnist("train", download=False)
        return data.flatten_and_scale(images[:batch]), labels[:batch].astype(np.int64), "MNIST"
    except OSError:
        rng = np.random.default_rng(seed)
        X = rng.random((batch, SIZES[0]), dtype=np.float32)
        return X, rng.integers(0, SIZES[-1], batch), "random pixels (MNIST not found)"


def make_nnlib_step(X, y, lr):
    """(model, step): the planned step that nnlib.train.fit runs (labels checked by fit)."""
    from nnlib import MLP, optim
    from nnlib.step import TrainStep

    model = MLP(SIZES, seed=0, dtype="float32")
    step = TrainStep(model, optim.SGD(model.params, lr=lr), check_labels=False)
    return model, lambda: step(X, y)


def make_readable_step(X, y, lr):
    """model.loss + SGD.step on a model of its own, the same initial weights."""
    from nnlib import MLP, optim

    model = MLP(SIZES, seed=0, dtype="float32")
    opt = optim.SGD(model.params, lr=lr)

    def step():
        loss, grads = model.loss(X, y)
        opt.step(grads)
        return loss
    return step


def make_torch_step(model, X, y, lr):
    """The same network in torch, weights copied from the nnlib model (torch stores W transposed)."""
    import torch

    layers = []
    for i in range(1, len(SIZES)):
        lin = torch.nn.Linear(SIZES[i - 1], SIZES[i])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(model.params[f"W{i}"].T.copy()))
            lin.bias.copy_(torch.from_numpy(model.params[f"b{i}"]))
        layers += [lin, torch.nn.ReLU()]
    net = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(net(Xt), yt)
        loss.backward()
        opt.step()
        return loss.item()
    return step


def make_fused_step(model, X, y, lr):
    """The same SGD step as one NumPy function: no checks, no caches, no dicts,
    every buffer allocated once, every update in place (the NumPy limit)."""
    import numpy as np

    from nnlib import aligned

    W1, b1, W2, b2, W3, b3 = (aligned.copy(model.params[k]) for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
    B, dtype = len(X), W1.dtype
    # Every buffer on a cache line, as nnlib's. At B = 1 the rows sit in zero-padded
    # two-row blocks (Xf, h1f, ...), so that each weight gradient is a k = 2 BLAS product
    # instead of an outer product outside BLAS (see nnlib.step); at B > 1 Xf is X.
    P = max(B, 2)
    Xf, h1f, h2f, zf, d1f, d2f = (aligned.zeros((P, n), dtype) for n in (*SIZES, *SIZES[1:3]))
    Xf[:B] = X
    X, h1, h2, z, d1, d2 = (a[:B] for a in (Xf, h1f, h2f, zf, d1f, d2f))
    dW1, dW2, dW3 = (aligned.empty(w.shape, dtype) for w in (W1, W2, W3))
    rows, scale = np.arange(B), dtype.type(1.0 / B)
    lr = dtype.type(lr)

    def step():
        np.matmul(X, W1, out=h1)
        np.add(h1, b1, out=h1)
        np.maximum(h1, 0, out=h1)
        np.matmul(h1, W2, out=h2)
        np.add(h2, b2, out=h2)
        np.maximum(h2, 0, out=h2)
        np.matmul(h2, W3, out=z)
        np.add(z, b3, out=z)
        np.subtract(z, z.max(axis=1, keepdims=True), out=z)
        zy = z[rows, y]                                 # a copy: the true class's shifted logit
        np.exp(z, out=z)
        total = z.sum(axis=1, keepdims=True)
        loss = float(np.mean(np.log(total[:, 0]) - zy))
        np.divide(z, total, out=z)                      # softmax
        z[rows, y] -= 1
        np.multiply(z, scale, out=z)                    # dL/dlogits
        np.matmul(h2f.T, zf, out=dW3)
        db3 = z.sum(axis=0)
        np.matmul(z, W3.T, out=d2)
        np.multiply(d2, h2 > 0, out=d2)
        np.matmul(h1f.T, d2f, out=dW2)
        db2 = d2.sum(axis=0)
        np.matmul(d2, W2.T, out=d1)
        np.multiply(d1, h1 > 0, out=d1)
        np.matmul(Xf.T, d1f, out=dW1)
        db1 = d1.sum(axis=0)
        for p, g in ((W1, dW1), (W2, dW2), (W3, dW3), (b1, db1), (b2, db2), (b3, db3)):
            g *= lr     # in place: dW and db are this step's own buffers
            p -= g
        return loss
    return step


def flops_per_step(batch):
    pairs = list(zip(SIZES[:-1], SIZES[1:]))
    forward = sum(2 * batch * a * b for a, b in pairs)
    input_grads = sum(2 * batch * a * b for a, b in pairs[1:])
    return 2 * forward + input_grads  # forward + weight gradients (same count) + input gradients


def sgemm_call(n=1024):
    import numpy as np

    rng = np.random.default_rng(0)
    a, b = rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)
    out = np.empty((n, n), dtype=np.float32)
    return (lambda: np.matmul(a, b, out=out)), 2 * n ** 3


def calls_for(fn, seconds):
    """How many calls of fn take about ``seconds`` (at least 3)."""
    start = time.perf_counter()
    fn()
    fn()
    per_call = (time.perf_counter() - start) / 2
    return max(3, int(seconds / max(per_call, 1e-9)))


def seconds_per_call(fn, calls):
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


IMPLS = ("nnlib", "readable", "torch", "fused")


def measure(batch, args, sgemm):
    """Per-round seconds per step of each of IMPLS and SGEMM seconds, interleaved; then the
    plain-loop time of nnlib's step."""
    import gc

    from nnlib import aligned

    X, y, source = load_batch(batch)
    X = aligned.copy(X)
    model, nn_step = make_nnlib_step(X, y, args.lr)
    steps = (nn_step, make_readable_step(X, y, args.lr), make_torch_step(model, X, y, args.lr),
             make_fused_step(model, X, y, args.lr))
    losses = tuple(step() for step in steps)   # first steps: same weights, same batch
    if max(losses) - min(losses) > 1e-5 * max(1.0, abs(losses[2])):
        raise SystemExit(f"batch {batch}: losses differ ({', '.join(IMPLS)}) = {losses}")
    sgemm_fn, _ = sgemm
    calls = {fn: calls_for(fn, args.seconds) for fn in (*steps, sgemm_fn)}
    rows = []
    gc.disable()  # a collection inside one implementation's timing would bias the round
    try:
        for r in range(args.rounds):
            k = r % len(steps)
            order = steps[k:] + steps[:k]   # each implementation leads a quarter of the rounds
            t = {fn: seconds_per_call(fn, calls[fn]) for fn in order}
            rows.append((*(t[fn] for fn in steps), seconds_per_call(sgemm_fn, calls[sgemm_fn])))
    finally:
        gc.enable()
    return rows, plain_loop(nn_step, calls[nn_step]), losses, source


def plain_loop(step, calls, *, repeats=5):
    """Median seconds per call of `for _ in range(calls): step()`, the simplest timing."""
    import statistics

    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            step()
        times.append((time.perf_counter() - start) / calls)
    return statistics.median(times)


def summarize(batch, rows, plain, sgemm_flops):
    import numpy as np

    nn, rd, tt, fu, gemm = (np.array(col) for col in zip(*rows))
    peak = sgemm_flops / np.median(gemm)
    achieved = flops_per_step(batch) / np.median(nn)
    return dict(batch=batch, nn_us=1e6 * np.median(nn), readable_us=1e6 * np.median(rd),
                torch_us=1e6 * np.median(tt), fused_us=1e6 * np.median(fu),
                vs_torch=float(np.median(tt / nn)),
                vs_torch_iqr=tuple(np.percentile(tt / nn, [25, 75])),
                vs_fused=float(np.median(fu / nn)),
                vs_fused_iqr=tuple(np.percentile(fu / nn, [25, 75])),
                readable_vs_fused=float(np.median(fu / rd)),
                gflops=achieved / 1e9, peak=peak / 1e9, peak_fraction=achieved / peak,
                peak_spread=float(np.ptp(sgemm_flops / gemm) / peak),
                plain_us=1e6 * plain, plain_gap=abs(plain - np.median(nn)) / plain)


def report(results, losses, source, threads):
    print(f"data: {source}; network {'-'.join(map(str, SIZES))}, SGD, float32, one thread")
    print(f"ran on: {threads}")
    for batch, values in losses.items():
        print(f"  batch {batch:4d}: loss on the same batch  " +
              "  ".join(f"{name} {value:.6f}" for name, value in zip(IMPLS, values)))
    head = (f"{'batch':>5} | {'nnlib us':>9} | {'readable us':>11} | {'torch us':>9} | "
            f"{'fused us':>9} | {'nnlib/torch':>17} | {'nnlib/fused':>17} | {'readable/fused':>14} | "
            f"{'GFLOP/s':>7} | {'of peak':>7} | {'plain loop us':>13}")
    print(head)
    print("-" * len(head))
    for r in results:
        print(f"{r['batch']:5d} | {r['nn_us']:9.1f} | {r['readable_us']:11.1f} | {r['torch_us']:9.1f} | "
              f"{r['fused_us']:9.1f} | "
              f"{r['vs_torch']:5.2f} ({r['vs_torch_iqr'][0]:4.2f}-{r['vs_torch_iqr'][1]:4.2f}) | "
              f"{r['vs_fused']:5.2f} ({r['vs_fused_iqr'][0]:4.2f}-{r['vs_fused_iqr'][1]:4.2f}) | "
              f"{r['readable_vs_fused']:14.2f} | "
              f"{r['gflops']:7.1f} | {r['peak_fraction']:7.0%} | {r['plain_us']:13.1f}")
    print("nnlib = TrainStep, the step fit runs; readable = model.loss + SGD.step.\n"
          "x/y = speed ratio (y's time / x's time per step), median (IQR) of interleaved rounds;\n"
          "of peak = nnlib GFLOP/s / single-thread SGEMM GFLOP/s measured in the same rounds; "
          "plain loop = nnlib's step timed as one loop")
    return verdicts(results)


def verdicts(results):
    """Print each target's verdict; return False if the benchmark disagrees with a plain loop."""
    agree = True
    by_batch = {r["batch"]: r for r in results}
    for r in results:
        if r["batch"] in TARGETS:
            ok = r["vs_torch"] >= TARGETS[r["batch"]]
            print(f"target batch {r['batch']}: nnlib/torch >= {TARGETS[r['batch']]} -> "
                  f"{'met' if ok else 'NOT met'}")
        ok = r["vs_fused"] >= FUSED_TARGET
        print(f"target batch {r['batch']}: nnlib/fused >= {FUSED_TARGET} -> {'met' if ok else 'NOT met'}")
        if r["batch"] == PEAK_TARGET[0]:
            ok = r["peak_fraction"] >= PEAK_TARGET[1]
            print(f"target batch {r['batch']}: >= {PEAK_TARGET[1]:.0%} of SGEMM peak -> "
                  f"{'met' if ok else 'NOT met'} (SGEMM rate varied by {r['peak_spread']:.0%} "
                  "across rounds)")
        if r["plain_gap"] > AGREEMENT:
            agree = False
            print(f"CHECK FAILED batch {r['batch']}: the benchmark's {r['nn_us']:.1f} us/step "
                  f"differs from a plain loop's {r['plain_us']:.1f} us by {r['plain_gap']:.0%} "
                  f"(> {AGREEMENT:.0%}): it measured something other than the step")
    if 1 in by_batch and 8 in by_batch:
        ok = by_batch[1]["nn_us"] <= by_batch[8]["nn_us"]
        print(f"target: nnlib's batch-1 step no slower than its batch-8 step -> "
              f"{'met' if ok else 'NOT met'} ({by_batch[1]['nn_us']:.1f} vs "
              f"{by_batch[8]['nn_us']:.1f} us)")
    return agree


def run(args):
    import torch

    torch.set_num_threads(1)
    threads, single = threads_report()
    if not single:
        raise SystemExit(f"refusing to time: not single-threaded ({threads})")
    sgemm = sgemm_call()
    results, losses, source = [], {}, ""
    for batch in args.batches:
        rows, plain, losses[batch], source = measure(batch, args, sgemm)
        results.append(summarize(batch, rows, plain, sgemm[1]))
    return 0 if report(results, losses, source, threads) else 1


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if os.environ.get(CHILD_MARK):
        return run(args)
    return rerun_single_threaded(argv)


if __name__ == "__main__":
    sys.exit(main())
