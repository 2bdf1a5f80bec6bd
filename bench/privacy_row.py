"""One privacy-utility row as a JSON line: python3 bench/privacy_row.py LABEL RESULTS.json MODEL.json SECS ARGS"""
import json
import sys

label, res, meta, secs, args = sys.argv[1:]
r = json.load(open(res))
m = json.load(open(meta))
p = m.get("privacy") or {}
x = r["metrics"] if "metrics" in r else r
print(json.dumps({"row": label, "epsilon": p.get("epsilon"), "noise_multiplier": p.get("noise_multiplier"),
                  "steps": p.get("steps"), "sampling_rate": p.get("sampling_rate"), "ndcg@10": x["ndcg@10"],
                  "hr@10": x["hr@10"], "train_s": int(secs), "command": "driftrec train --data DATA " + args}))
