"""Print the salted hash that a visible test compares a numeric answer with.

usage: primer hash --salt GRADE_ID [--sig N] VALUE
example: primer hash --salt ex2-batch-bytes 200704

Integers (no --sig) are hashed exactly; floats to N significant digits. Put the
printed digest in the test cell: checks.check_hashed(value, "DIGEST", salt=..., sig=N, what=...).
See docs/AUTHORING.md.
"""
import argparse

from nnlib.checks import hash_answer


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--salt", required=True, help="the exercise's grade_id")
    parser.add_argument("--sig", type=int, default=None, help="significant digits (omit for an exact integer)")
    parser.add_argument("value", type=float)
    args = parser.parse_args(argv)
    print(hash_answer(args.value, salt=args.salt, sig=args.sig))


if __name__ == "__main__":
    main()
