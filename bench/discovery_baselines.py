#!/usr/bin/env python3
"""Reference points for the discovery protocol (`driftrec evaluate --skip-repeats` on a temporal
split) on `driftrec synth` data, which ships the users' true interests: how far above popularity
can a model get? Not DriftRec models, and the oracle reads the ground truth; use them to read the
drift sweep. Protocol as in DriftRec: cutoffs at the 0.8 / 0.9 quantiles of event times, training
counts before 0.8, a case per user with history before the cutoff and at least one target new to
them after it, seen items never ranked, full ranking, NDCG@10 over the distinct new targets.
  pop       - training popularity.
  mix x pop - the user's category mix from their history (each event weighted 0.5^(age/half-life),
              age in events) shrunk toward the population's mix (weight lambda on the user's), times
              popularity within the category; half-life and lambda chosen on validation.
  oracle    - the user's TRUE mix at the cutoff (interests.csv) times popularity within category.
usage: bench/discovery_baselines.py DATA_DIR   (events.csv, items.csv, interests.csv)"""
import collections
import csv
import math
import sys

d = sys.argv[1]
cat = {r["item_id"]: r["category"] for r in csv.DictReader(open(d + "/items.csv"))}
events = [(r["user_id"], r["item_id"], int(r["timestamp"])) for r in csv.DictReader(open(d + "/events.csv"))]
times = sorted(t for _, _, t in events)
quantile = lambda f: times[min(len(times) - 1, int(f * len(times)))]
valid_start, test_start = quantile(0.8), quantile(0.9)
by_user = collections.defaultdict(list)
for u, i, t in events:
    by_user[u].append((t, i))
truth = collections.defaultdict(dict)  # user -> {session time: {category: weight}}
for r in csv.DictReader(open(d + "/interests.csv")):
    truth[r["user_id"]].setdefault(int(r["timestamp"]), {})[r["category"]] = float(r["weight"])
pop = collections.Counter(i for _, i, t in events if t < valid_start)
cat_pop = collections.Counter()
for i, n in pop.items():
    cat_pop[cat[i]] += n
total = sum(cat_pop.values())


def ndcg10(ranked, targets):
    dcg = sum(1 / math.log2(k + 2) for k, i in enumerate(ranked[:10]) if i in targets)
    return dcg / sum(1 / math.log2(k + 2) for k in range(min(10, len(targets))))


def cases(start, end):
    for u, seq in by_user.items():
        hist = [i for t, i in sorted(seq) if t < start]
        targets = {i for t, i in seq if start <= t < end} - set(hist)
        if hist and targets:
            yield u, hist, targets


def top10(weight, seen):  # weight: category -> share
    ranked = sorted((i for i in cat if i not in seen), key=lambda i: -(weight(cat[i]) * pop[i] / max(1, cat_pop[cat[i]])))
    return ranked[:10]


def mix_pop(start, end, half_life, lam):
    out = []
    for _, hist, targets in cases(start, end):
        w = collections.Counter()
        for age, i in enumerate(reversed(hist)):
            w[cat[i]] += 1.0 if half_life is None else 0.5 ** (age / half_life)
        z = sum(w.values())
        out.append(ndcg10(top10(lambda c: lam * w[c] / z + (1 - lam) * cat_pop[c] / total, set(hist)), targets))
    return sum(out) / len(out)


def pop_and_oracle(start, end):
    p, o = [], []
    for u, hist, targets in cases(start, end):
        p.append(ndcg10(top10(lambda c: cat_pop[c] / total, set(hist)), targets))
        snaps = sorted(truth[u].items())
        now = [w for t, w in snaps if t <= start] or [snaps[0][1]]
        z = sum(now[-1].values())
        o.append(ndcg10(top10(lambda c: now[-1].get(c, 0.0) / z, set(hist)), targets))
    return sum(p) / len(p), sum(o) / len(o), len(p)


grid = [(h, lam) for h in (None, 30, 10, 3) for lam in (0.25, 0.5, 0.75, 1.0)]
best = max(grid, key=lambda g: mix_pop(valid_start, test_start, *g))
pop_v, oracle_v, n_v = pop_and_oracle(valid_start, test_start)
print(f"{d}: validation ({n_v} cases) pop {pop_v:.4f}, mix x pop {mix_pop(valid_start, test_start, *best):.4f}, "
      f"oracle {oracle_v:.4f}")
pop_t, oracle_t, n = pop_and_oracle(test_start, float("inf"))
print(f"{d}: {n} test cases with a new target")
print(f"  pop        NDCG@10 {pop_t:.4f}")
print(f"  mix x pop  NDCG@10 {mix_pop(test_start, float('inf'), *best):.4f} (half-life {best[0]}, lambda {best[1]}: "
      f"chosen on validation)")
print(f"  oracle     NDCG@10 {oracle_t:.4f} (true interests at the cutoff)")
