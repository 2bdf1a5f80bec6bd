#!/usr/bin/env python3
"""How predictable are the synthetic news preset's test clicks from a user's past category mix?
For every click at or after the 0.9 time quantile on an item first seen at or after the 0.8
quantile (a new item), the item is scored by the share of its category among the user's clicks
before the 0.9 quantile, against 20 new items drawn at random (seed 1); prints the mean
impression AUC. This is per click rather than per user (bench/content.sh's cases), so it is a
reference point for the content rows, not the same protocol.
usage: driftrec synth --preset news --users 3000 --items 4000 --seed 7 --out news
       bench/news_category_baseline.py news"""
import collections
import csv
import math
import random
import sys

d = sys.argv[1]
cat = {r["item_id"]: r["category"] for r in csv.DictReader(open(f"{d}/items.csv"))}
events = [(r["user_id"], r["item_id"], int(r["timestamp"])) for r in csv.DictReader(open(f"{d}/events.csv"))]
ts = sorted(e[2] for e in events)
q = lambda f: ts[min(len(ts) - 1, math.floor(f * len(ts)))]
t_valid, t_test = q(0.8), q(0.9)
first = {}
for _, item, t in sorted(events, key=lambda e: e[2]):
    first.setdefault(item, t)
history = collections.defaultdict(collections.Counter)
for user, item, t in events:
    if t < t_test:
        history[user][cat[item]] += 1
new_items = sorted(i for i in first if first[i] >= t_valid)
rng = random.Random(1)
aucs = []
for user, item, t in events:
    if t < t_test or not history[user] or first[item] < t_valid:
        continue
    h = history[user]
    total = sum(h.values())
    share = lambda x: h[cat[x]] / total
    s = share(item)
    negatives = rng.sample(new_items, 20)
    aucs.append(sum(1.0 if s > share(x) else 0.5 if s == share(x) else 0.0 for x in negatives) / 20)
print(f"clicks {len(aucs)}  impression AUC of the category-share score {sum(aucs) / len(aucs):.4f}")
