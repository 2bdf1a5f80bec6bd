#!/usr/bin/env python3
"""Prints the README's Beauty table from bench/results/beauty_*.json (written by bench/beauty.sh,
bench/beauty_ensemble.sh and bench/beauty_refit.sh): test HR@10, NDCG@10, MRR, coverage,
validation NDCG@10, training seconds and epochs, with the command behind each row; the refit rows
come last."""
import json
import os

ORDER = ["pop", "itemknn", "bpr", "ials", "gru4rec", "caser", "sasrec", "sasrec@7", "sasrec@13", "hstu",
         "sasrec_dropout05", "sasrec@7_dropout05", "sasrec@13_dropout05",
         "sasrec_post", "sasrec@7_post", "sasrec@13_post",
         "sasrec_noaverage", "sasrec@7_noaverage", "sasrec@13_noaverage",
         "sasrec_nofilter", "sasrec@7_nofilter", "sasrec@13_nofilter", "sasrec_sequences", "sasrec@7_sequences", "hstu_sequences", "hstu@7_sequences", "hstu@13_sequences", "ensemble"]
# NAME_sequences: the configs before prefix samples (issue #15), trained on whole sequences with
# validation every 5 epochs and patience 4; the blend and the refit rows were built from those.
SEQUENCES = " --set samples=sequences --set eval_every=5 --set patience=4"
# sasrec rows made before its spectral filter (issue #15): NAME_nofilter (prefix samples) and the
# sasrec NAME_sequences rows switch it (and the wider feed-forward) off.
NOFILTER = " --set filter_mix=0 --set ffn_dim=0"
# sasrec rows made before its weight averaging (issue #15): NAME_noaverage, and every earlier sasrec row.
NOAVERAGE = " --set weight_average=0"
# sasrec rows with post-LN blocks (issue #15; validated better on Beauty, worse on MovieLens-100K, not
# committed): NAME_post.
POST = " --set norm=post"
# sasrec rows made before dropout 0.4 was committed (issue #15): NAME_dropout05 and every earlier
# sasrec row.
DROPOUT05 = " --set dropout=0.5"
here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
print("| model | HR@10 | NDCG@10 | MRR | coverage@10 | valid NDCG@10 | train s | epochs | command |")
print("|---|---|---|---|---|---|---|---|---|")
for m in ORDER:
    path = os.path.join(here, f"beauty_{m}.json")
    if not os.path.exists(path):
        continue
    r = json.load(open(path))
    x = r["metrics"]
    v = (r.get("validation") or {}).get("ndcg@10")
    valid = f"{v:.4f}" if v is not None else "-"
    if m == "ensemble":
        name = "ensemble (" + " + ".join(r["members"]) + ", whole-sequence members)"
        secs = "members + %.0f" % r["weight_fitting_seconds"]
        epochs = "-"
        cmd = "`bench/beauty_ensemble.sh Beauty.txt " + " ".join(r["members"]) + "`"
    else:
        old = m.endswith("_sequences")
        unfiltered = m.startswith("sasrec") and (old or m.endswith("_nofilter"))
        unaveraged = m.startswith("sasrec") and (unfiltered or m.endswith("_noaverage"))
        before_dropout04 = m.startswith("sasrec") and "_" in m  # every variant row predates it
        name = (m.replace("_sequences", ", whole sequences").replace("_nofilter", ", prefix samples, no filter")
                .replace("_noaverage", ", no weight average").replace("_post", ", post-LN blocks")
                .replace("_dropout05", ", dropout 0.5"))
        secs = "%.1f" % r.get("training_seconds", float("nan"))
        epochs = r.get("epochs") or "-"
        items = " --items Beauty_item2attributes.json" if r.get("config", {}).get("attributes") else ""
        base, seed = (m.replace("_sequences", "").replace("_nofilter", "").replace("_noaverage", "")
                      .replace("_post", "").replace("_dropout05", "").split("@") + [""])[:2]
        seed = f" --seed {seed}" if seed else ""
        sets = (DROPOUT05 if before_dropout04 else "") + (SEQUENCES if old else "") + (NOFILTER if unfiltered else "") + (NOAVERAGE if unaveraged else "") + (POST if m.endswith("_post") else "")
        cmd = (f"`driftrec train --data Beauty.txt{items} --model {base} --config configs/beauty/{base}.yaml{seed}{sets} "
               f"--out m && driftrec evaluate --model m --data Beauty.txt`")
    print(f"| {name} | {x['hr@10']:.4f} | {x['ndcg@10']:.4f} | {x['mrr']:.4f} | {x['coverage@10']:.3f} | {valid} | "
          f"{secs} | {epochs} | {cmd} |")

# The refit rows (bench/beauty_refit.sh): the same configs and seeds retrained on training +
# validation events for their best validation epoch count; the blend keeps its validated weights.
path = os.path.join(here, "beauty_refit.json")
if os.path.exists(path):
    rows = json.load(open(path))["rows"]
    for r in sorted(rows, key=lambda r: ORDER.index(r["model"]) if r["model"] in ORDER else len(ORDER)):
        m, x = r["model"], r["refit"]
        if m == "ensemble":
            secs, epochs = "members", "-"
            cmd = "`bench/beauty_refit.sh Beauty.txt`"
        else:
            secs, epochs = "%.1f" % r["refit_training_seconds"], r.get("refit_epochs") or "-"
            items = "" if m.split("@")[0] in ("pop", "itemknn", "bpr", "ials") else " --items Beauty_item2attributes.json"
            cmd = f"`driftrec train --data Beauty.txt{items} --refit-from m --out m2 && driftrec evaluate --model m2 --data Beauty.txt`"
        label = f"{m}, whole sequences" if m.split("@")[0] in ("sasrec", "hstu", "ensemble") else m
        print(f"| **{label}, refit** | {x['hr@10']:.4f} | {x['ndcg@10']:.4f} | {x['mrr']:.4f} | {x['coverage@10']:.3f} | - | "
              f"{secs} | {epochs} | {cmd} |")
