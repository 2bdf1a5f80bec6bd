#!/usr/bin/env python3
"""Python's overhead on Model.recommend for a batch of users (issue #13 target: <= 5%).

Times model.recommend(users, k) from Python (argument conversion, GIL release, the C++ call, numpy
arrays of ids and scores back) against the same C++ call timed inside C++ (Model._recommend_cpp_seconds),
alternating the two, and reports the medians.

  PYTHONPATH=build/python /usr/bin/python3 bench/python_overhead.py DATA_DIR MODEL [--users 1000] [--k 10]
"""

import argparse
import json
import statistics
import sys
import time

import driftrec


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("model", help="a model directory (driftrec train --out)")
    ap.add_argument("--users", type=int, default=1000)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=21)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", help="write the result here")
    args = ap.parse_args()
    driftrec.set_threads(args.threads)
    data = driftrec.Dataset.read(args.data)
    model = driftrec.load(args.model, data=data)
    users = data.user_ids[: args.users]
    model.recommend(users, k=args.k)  # states encoded and cached once, as a server would hold them
    py, cpp = [], []
    for _ in range(args.repeats):
        cpp.append(model._recommend_cpp_seconds(users, args.k))
        t0 = time.perf_counter()
        model.recommend(users, k=args.k)
        py.append(time.perf_counter() - t0)
    result = {
        "model": model.name,
        "model_dir": args.model,
        "data": args.data,
        "users": len(users),
        "k": args.k,
        "threads": args.threads,
        "repeats": args.repeats,
        "cpp_median_ms": 1000 * statistics.median(cpp),
        "python_median_ms": 1000 * statistics.median(py),
    }
    result["overhead_pct"] = 100 * (result["python_median_ms"] / result["cpp_median_ms"] - 1)
    print(json.dumps(result, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
