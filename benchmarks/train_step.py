"""One training step (model.loss + optimizer step) of nnlib against PyTorch on the CPU.

    python benchmarks/train_step.py            # or: make bench
    python benchmarks/train_step.py --rounds 31 --batches 32 512

Both run 784-128-64-10 with the same initial weights on the same MNIST batch
(random pixels when MNIST is not available), SGD, one thread each. The script
checks that both compute the same loss on that batch, then times them
interleaved, round after round, so that a burst of load from other processes
hits both alike; the ratio quoted is the median of the per-round ratios. The
machine's single-thread SGEMM rate (a 1024^3 float32 matmul) is measured in the
same rounds and is the "peak" the achieved GFLOP/s are compared with.

FLOPs counted per step: 2 B n_in n_out for every forward matmul and every
weight gradient, plus the input gradients of layers 2 and up (the first
layer's input gradient is not needed, and neither library computes it).
Elementwise work (bias, ReLU, softmax, update) is not counted.

Not a test: timings depend on the machine and on what else runs on it.
"""

import argparse
import os
import subprocess
import sys
import time

SIZES = (784, 128, 64, 10)
TARGETS = {32: 1.4, 512: 1.15}      # nnlib / torch speed ratio wanted at these batch sizes
PEAK_TARGET = (512, 0.65)           # fraction of single-thread SGEMM rate wanted at batch 512
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
CHILD_MARK = "NNLIB_BENCH_ONE_THREAD"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[32, 128, 512])
    parser.add_argument("--rounds", type=int, default=21, help="interleaved timing rounds per batch size")
    parser.add_argument("--seconds", type=float, default=0.05, help="time per implementation per round")
    parser.add_argument("--lr", type=float, default=1e-3)
    return parser.parse_args(argv)


def one_thread():
    """A context that limits BLAS/OpenMP to one thread, or None when only env vars can.

    threadpoolctl changes the limit of libraries already loaded; without it the
    limit must be set in the environment before NumPy and torch are imported,
    which only a fresh process can do.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(limits=1)


def rerun_single_threaded():
    """Run this script again in a subprocess with every thread variable set to 1."""
    env = dict(os.environ, **{var: "1" for var in THREAD_VARS}, **{CHILD_MARK: "1"})
    return subprocess.call([sys.executable, os.path.abspath(__file__), *sys.argv[1:]], env=env)


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
    from nnlib import MLP, optim

    model = MLP(SIZES, seed=0, dtype="float32")
    opt = optim.SGD(model.params, lr=lr)

    def step():
        loss, grads = model.loss(X, y)
        opt.step(grads)
        return loss
    return model, step


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


def measure(batch, args, sgemm):
    """Per-round seconds per step of nnlib and torch, and SGEMM seconds, interleaved."""
    import gc

    X, y, source = load_batch(batch)
    model, nn_step = make_nnlib_step(X, y, args.lr)
    torch_step = make_torch_step(model, X, y, args.lr)
    nn_loss, torch_loss = nn_step(), torch_step()   # first steps: same weights, same batch
    if abs(nn_loss - torch_loss) > 1e-5 * max(1.0, abs(torch_loss)):
        raise SystemExit(f"batch {batch}: nnlib loss {nn_loss!r} differs from torch loss {torch_loss!r}")
    sgemm_fn, _ = sgemm
    n_nn, n_torch = calls_for(nn_step, args.seconds), calls_for(torch_step, args.seconds)
    n_gemm = calls_for(sgemm_fn, args.seconds)
    rows = []
    gc.disable()  # a collection inside one implementation's timing would bias the pair
    try:
        for r in range(args.rounds):
            pair = [(nn_step, n_nn), (torch_step, n_torch)]
            if r % 2:
                pair.reverse()  # neither implementation always runs first in a round
            t = {fn: seconds_per_call(fn, n) for fn, n in pair}
            rows.append((t[nn_step], t[torch_step], seconds_per_call(sgemm_fn, n_gemm)))
    finally:
        gc.enable()
    return rows, (nn_loss, torch_loss), source


def summarize(batch, rows, sgemm_flops):
    import numpy as np

    nn, tt, gemm = (np.array(col) for col in zip(*rows))
    ratios = tt / nn
    peak = sgemm_flops / np.median(gemm)
    achieved = flops_per_step(batch) / np.median(nn)
    q1, q3 = np.percentile(ratios, [25, 75])
    return dict(batch=batch, nn_rate=batch / np.median(nn), torch_rate=batch / np.median(tt),
                ratio=float(np.median(ratios)), ratio_iqr=(q1, q3), gflops=achieved / 1e9,
                torch_gflops=flops_per_step(batch) / np.median(tt) / 1e9,
                peak=peak / 1e9, peak_fraction=achieved / peak,
                peak_spread=float(np.ptp(sgemm_flops / gemm) / peak))


def report(results, losses, source):
    print(f"data: {source}; network {'-'.join(map(str, SIZES))}, SGD, float32, one thread")
    for batch, (a, b) in losses.items():
        print(f"  batch {batch:4d}: loss on the same batch  nnlib {a:.6f}  torch {b:.6f}")
    head = (f"{'batch':>5} | {'nnlib samples/s':>15} | {'torch samples/s':>15} | {'ratio':>5} | "
            f"{'ratio IQR':>11} | {'GFLOP/s':>7} | {'torch GF/s':>10} | {'SGEMM GF/s':>10} | {'of peak':>7}")
    print(head)
    print("-" * len(head))
    for r in results:
        print(f"{r['batch']:5d} | {r['nn_rate']:15,.0f} | {r['torch_rate']:15,.0f} | {r['ratio']:5.2f} | "
              f"{r['ratio_iqr'][0]:5.2f}-{r['ratio_iqr'][1]:5.2f} | {r['gflops']:7.1f} | "
              f"{r['torch_gflops']:10.1f} | {r['peak']:10.1f} | {r['peak_fraction']:7.0%}")
    print("ratio = torch time / nnlib time per step (median of interleaved rounds); "
          "of peak = nnlib GFLOP/s / single-thread SGEMM GFLOP/s measured in the same rounds")
    for r in results:
        if r["batch"] in TARGETS:
            ok = r["ratio"] >= TARGETS[r["batch"]]
            print(f"target batch {r['batch']}: ratio >= {TARGETS[r['batch']]} -> {'met' if ok else 'NOT met'}")
        if r["batch"] == PEAK_TARGET[0]:
            ok = r["peak_fraction"] >= PEAK_TARGET[1]
            print(f"target batch {r['batch']}: >= {PEAK_TARGET[1]:.0%} of SGEMM peak -> {'met' if ok else 'NOT met'} "
                  f"(SGEMM rate varied by {r['peak_spread']:.0%} across rounds)")


def run(args):
    import torch

    torch.set_num_threads(1)
    sgemm = sgemm_call()
    results, losses, source = [], {}, ""
    for batch in args.batches:
        rows, losses[batch], source = measure(batch, args, sgemm)
        results.append(summarize(batch, rows, sgemm[1]))
    report(results, losses, source)


def main(argv=None):
    args = parse_args(argv)
    if os.environ.get(CHILD_MARK):
        return run(args)
    limit = one_thread()
    if limit is None:
        return rerun_single_threaded()
    with limit:
        return run(args)


if __name__ == "__main__":
    sys.exit(main())
