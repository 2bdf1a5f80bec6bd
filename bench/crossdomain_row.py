#!/usr/bin/env python3
"""One row of bench/crossdomain.sh: overall metrics from `driftrec evaluate --json`, and NDCG@10 /
HR@10 recomputed per case from --save-rankings for users with some (warm: 1 or more; sparse: 1-3)
or no (cold) events in the target domain before the test cutoff.
usage: crossdomain_row.py CORR DOMAIN MODEL EVAL.json RANKINGS.tsv MODEL.json EVENTS.csv"""
import collections
import csv
import json
import math
import sys


def ndcg10(ranked, targets):
    dcg = sum(1 / math.log2(i + 2) for i, x in enumerate(ranked[:10]) if x in targets)
    idcg = sum(1 / math.log2(i + 2) for i in range(min(len(targets), 10)))
    return dcg / idcg if idcg else 0.0


def main():
    corr, domain, model, eval_json, rankings, model_json, events = sys.argv[1:8]
    ev = json.load(open(eval_json))
    meta = json.load(open(model_json))
    cutoff = ev["split"]["cutoff_test"]
    in_domain = collections.Counter()
    for r in csv.DictReader(open(events)):
        if r["domain"] == domain and int(r["timestamp"]) < cutoff:
            in_domain[r["user_id"]] += 1
    groups = collections.defaultdict(list)
    everyone = []
    with open(rankings) as f:
        next(f)
        for line in f:
            user, targets, ranked = line.rstrip("\n").split("\t")
            t, rk = set(targets.split(",")), ranked.split(",")
            m = (ndcg10(rk, t), 1.0 if any(x in t for x in rk[:10]) else 0.0)
            everyone.append(m)
            n = in_domain[user]
            if n == 0:
                groups["cold"].append(m)
            else:
                groups["warm"].append(m)  # the users a single-domain model can evaluate
                if n <= 3:
                    groups["sparse"].append(m)
    overall = sum(m[0] for m in everyone) / len(everyone)
    if abs(overall - ev["metrics"]["ndcg@10"]) > 1e-6:
        sys.exit(f"rankings give NDCG@10 {overall}, evaluate gave {ev['metrics']['ndcg@10']}")
    mean = lambda g, i: sum(m[i] for m in groups[g]) / len(groups[g]) if groups[g] else 0.0
    json.dump({"correlation": float(corr), "domain": domain, "model": model,
               "ndcg@10": ev["metrics"]["ndcg@10"], "hr@10": ev["metrics"]["hr@10"], "mrr": ev["metrics"]["mrr"],
               "users": ev["users_evaluated"],
               "warm_users": len(groups["warm"]), "warm_ndcg@10": mean("warm", 0), "warm_hr@10": mean("warm", 1),
               "sparse_users": len(groups["sparse"]), "sparse_ndcg@10": mean("sparse", 0), "sparse_hr@10": mean("sparse", 1),
               "cold_users": len(groups["cold"]), "cold_ndcg@10": mean("cold", 0), "cold_hr@10": mean("cold", 1),
               "training_seconds": meta["training_seconds"], "epochs": meta.get("epochs"),
               "validation_ndcg@10": meta.get("validation", {}).get("ndcg@10")}, sys.stdout)


main()
