#!/usr/bin/env python3
"""How a shipped "user item item ..." train/test split was drawn, compared with a uniform carve.

For LightGCN-style splits (train.txt / test.txt, one line per user). Prints, for the shipped test
file and for a seeded uniform carve of FRACTION of each user's training items (what
`--valid-fraction` does; not the same random stream, the same kind of draw):
  - the popularity ratio: mean training popularity of the held-out interactions over that of the
    kept ones (size-biased means; about 1 for a uniform per-user draw, slightly below because a
    held-out item's own interaction is not counted);
  - the held-out share of each item's interactions by item popularity bucket.
Reads no model and no score: only which items were held out.
  bench/given_split_skew.py ../shared/data/gowalla [FRACTION] [SEED]
"""
import json
import random
import sys
from collections import Counter


def read_lists(path):
    lists = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) > 1:
                lists[parts[0]] = parts[1:]
    return lists


def ratio(kept, held):
    pop = Counter(i for items in kept.values() for i in items)
    a = [pop[i] for items in kept.values() for i in items]
    b = [pop[i] for items in held.values() for i in items]
    return (sum(b) / len(b)) / (sum(a) / len(a))


def shares(kept, held, edges):
    k = Counter(i for items in kept.values() for i in items)
    h = Counter(i for items in held.values() for i in items)
    rows = []
    for lo, hi in zip(edges, edges[1:] + [None]):
        items = [i for i in set(k) | set(h) if (k[i] + h[i]) >= lo and (hi is None or k[i] + h[i] < hi)]
        held_n = sum(h[i] for i in items)
        total = sum(k[i] + h[i] for i in items)
        rows.append({"interactions": f"[{lo}, {hi if hi else 'inf'})", "items": len(items),
                     "held_out_share": round(held_n / total, 4) if total else None})
    return rows


def main():
    data = sys.argv[1]
    fraction = float(sys.argv[2]) if len(sys.argv) > 2 else 0.1
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 42
    train = read_lists(f"{data}/train.txt")
    test = read_lists(f"{data}/test.txt")
    rng = random.Random(seed)
    carved_kept, carved_held = {}, {}
    for user, items in train.items():
        items = items[:]
        rng.shuffle(items)
        n = max(1, round(fraction * len(items)))
        carved_held[user], carved_kept[user] = items[:n], items[n:]
    edges = [0, 15, 25, 50, 100, 200, 500]
    out = {"data": data,
           "shipped_test": {"popularity_ratio": round(ratio(train, test), 4), "by_item_popularity": shares(train, test, edges)},
           f"uniform_carve_{fraction}": {"popularity_ratio": round(ratio(carved_kept, carved_held), 4),
                                        "by_item_popularity": shares(carved_kept, carved_held, edges)}}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
