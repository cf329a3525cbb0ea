"""Time and measure the course's GPU experiments; write results/gpu_timing.json and
results/gpu_memory.json (notebooks 08 and 09 show them, labelled with the device).

    python benchmarks/gpu.py                  # on a machine with a CUDA GPU: a few minutes
    python benchmarks/gpu.py --quick --out /tmp/gpu-smoke

It measures launch versus completion of one large matmul, the training step and the
inference of 784-128-64-10 at batch sizes 1 to 4096 (torch.utils.benchmark.Timer, and
CUDA events with and without an L2-cache flush), and the memory of 08's configurations
(tensor bytes, allocator reserve, CUDA context) against nnlib.liveness. nvidia-smi's
clocks and temperature are recorded before and after; no clock is ever set.

Without CUDA the same code runs on the CPU and says so ("fallback": true). A fallback run
writes to --out or to a new temporary folder, never to results/: results/ holds CUDA
measurements only. See nnlib/gpukit.py for what each figure means.
"""

import argparse
import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # nnlib without installing

from nnlib import gpukit  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="example: python benchmarks/gpu.py --quick --out /tmp/gpu-smoke",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=None,
                        help="folder for the two JSON files (default: results/ on CUDA, a "
                             "temporary folder on the CPU fallback)")
    parser.add_argument("--quick", action="store_true",
                        help="three batch sizes and few repetitions: checks that the kit "
                             "runs, not figures to quote")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    command = shlex.join(["python", "benchmarks/gpu.py",
                          *(sys.argv[1:] if argv is None else argv)])
    gpukit.run(command=command, out=args.out, quick=args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
