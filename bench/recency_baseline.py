#!/usr/bin/env python3
"""The "buy what you looked at last" heuristic on Taobao UserBehavior, under the protocol of
bench/behavior_ablation.sh taobao: per user with 3 or more buys, the last buy is the test case and
the history is every event before it (time order, file order on ties); the ranking is the user's
distinct past items, most recent first. Prints HR@10 and NDCG@10.
usage: bench/recency_baseline.py [../shared/data/taobao_sample/UserBehavior.csv]"""
import collections
import csv
import math
import sys

path = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/taobao_sample/UserBehavior.csv"
events = collections.defaultdict(list)
for k, row in enumerate(csv.reader(open(path))):
    if len(row) != 5:
        continue  # the sample's one malformed line, skipped as the benchmark does
    user, item, _category, behavior, ts = row
    events[user].append((int(ts), k, item, behavior))
hr = ndcg = n = 0
for user, ev in events.items():
    ev.sort()
    buys = [k for k, e in enumerate(ev) if e[3] == "buy"]
    if len(buys) < 3:
        continue
    last = buys[-1]
    n += 1
    ranked = []
    for e in reversed(ev[:last]):
        if e[2] not in ranked:
            ranked.append(e[2])
    if ev[last][2] in ranked[:10]:
        r = ranked.index(ev[last][2])
        hr += 1
        ndcg += 1 / math.log2(r + 2)
print(f"users {n}  HR@10 {hr / n:.4f}  NDCG@10 {ndcg / n:.4f}")
