"""Privacy-utility rows (JSON lines) -> bench/results JSON and a Markdown table (bench/privacy_*.sh).

    python3 bench/privacy_table.py ROWS.jsonl OUT.json DATA [extra key=value ...]

Each row's share "of non-private" is against the row named "<model>, not private" of its model
(the first word of its label); rows of a model without one use the first such row.
"""
import json
import sys

rows_path, out_path, data = sys.argv[1:4]
extra = dict(kv.split("=", 1) for kv in sys.argv[4:])
rows = [json.loads(line) for line in open(rows_path)]
json.dump({"data": data, "protocol": "leave-one-out, full ranking, seen excluded; test split; delta=1e-5",
           **extra, "rows": rows}, open(out_path, "w"), indent=2)
bases = {r["row"].split(",")[0]: r["ndcg@10"] for r in rows if r["row"].endswith(", not private")}
first = next(iter(bases.values()))
print("| row | epsilon | noise mult. | steps | HR@10 | NDCG@10 | of non-private | train s |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    base = bases.get(r["row"].split(",")[0].split(" ")[0], first)
    eps = "inf" if r["epsilon"] is None or r["epsilon"] > 1e6 else f"{r['epsilon']:.2f}"
    nm = "" if r["noise_multiplier"] is None else f"{r['noise_multiplier']:.3g}"
    print(f"| {r['row']} | {eps} | {nm} | {r['steps'] or ''} | {r['hr@10']:.4f} | {r['ndcg@10']:.4f} | "
          f"{100 * r['ndcg@10'] / base:.0f}% | {r['train_s']} |")
