#!/usr/bin/python3
"""PyTorch reference of DriftRec's `sasrec` (same blocks, initialisation, loss and protocol) with
the data pipeline such scripts usually have: every sequence left-padded to max_len.

  /usr/bin/python3 bench/sasrec_reference.py --data Beauty.txt --target 0.05 [--loss softmax|sampled]

Data: `user item1 item2 ...` per line (time order). Split: leave-one-out (last = test, second-last
= validation; training sequences end before the validation item). Validation: full ranking over all
items, seen items excluded, NDCG@10. Prints one JSON line per validation check and a final one with
the wall time until validation NDCG@10 first reached --target.
"""
import argparse, json, math, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d, heads, ffn, dropout):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.out = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.ff1, self.ff2 = nn.Linear(d, ffn), nn.Linear(ffn, d)
        self.drop = nn.Dropout(dropout)

    def forward(self, x, mask):
        B, L, d = x.shape
        dh = d // self.heads
        q = self.qkv(self.ln1(x)).view(B, L, 3, self.heads, dh).permute(2, 0, 3, 1, 4)
        a = torch.softmax(q[0] @ q[1].transpose(-2, -1) / math.sqrt(dh) + mask, -1)
        ctx = (self.drop(a) @ q[2]).permute(0, 2, 1, 3).reshape(B, L, d)
        y = x + self.drop(self.out(ctx))
        return y + self.drop(self.ff2(self.drop(F.gelu(self.ff1(self.ln2(y))))))


class SasRec(nn.Module):
    def __init__(self, n_items, d, max_len, layers, heads, dropout):
        super().__init__()
        self.d = d
        self.items = nn.Embedding(n_items, d, padding_idx=0)
        self.positions = nn.Embedding(max_len, d)
        self.blocks = nn.ModuleList([Block(d, heads, d, dropout) for _ in range(layers)])
        self.ln = nn.LayerNorm(d)
        self.drop = nn.Dropout(dropout)
        nn.init.normal_(self.items.weight, 0.0, 1.0 / math.sqrt(d))
        with torch.no_grad():
            self.items.weight[0].zero_()

    def forward(self, seq):
        B, L = seq.shape
        valid = seq.ne(0)
        pos = torch.arange(L).unsqueeze(0) + (self.positions.weight.size(0) - L)
        x = self.items(seq) * math.sqrt(self.d) + self.positions(pos)
        x = self.drop(x) * valid.unsqueeze(-1)
        causal = torch.ones(L, L, dtype=torch.bool).triu(1)
        blocked = (causal[None, None] | ~valid[:, None, None, :]) & ~torch.eye(L, dtype=torch.bool)
        mask = torch.zeros(blocked.shape).masked_fill(blocked, float("-inf"))
        for b in self.blocks:
            x = b(x, mask)
        return self.ln(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--target", type=float, default=0.05)
    ap.add_argument("--loss", default="softmax", choices=["softmax", "sampled"])
    ap.add_argument("--negatives", type=int, default=256)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=1)
    ap.add_argument("--max-len", type=int, default=50)
    ap.add_argument("--dropout", type=float, default=0.5)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--eval-every", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    rng = np.random.default_rng(a.seed)
    t_start = time.time()
    users, ids = [], {}
    for line in open(a.data):
        f = line.split()
        if len(f) >= 2:
            users.append([ids.setdefault(x, len(ids) + 1) for x in f[1:]])
    n_items = len(ids) + 1
    train = [u[:-2] for u in users if len(u) >= 3]
    valid = [(u[:-2], u[-2]) for u in users if len(u) >= 3]
    L = a.max_len
    inputs = np.zeros((len(train), L), dtype=np.int64)
    targets = np.zeros((len(train), L), dtype=np.int64)
    for r, s in enumerate(train):
        s = s[-(L + 1):]
        n = len(s) - 1
        if n > 0:
            inputs[r, L - n:] = s[:-1]
            targets[r, L - n:] = s[1:]
    model = SasRec(n_items, a.dim, L, a.layers, a.heads, a.dropout)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.0)
    step, reached = 0, None

    def validate():
        model.eval()
        hits = 0.0
        with torch.no_grad():
            E = model.items.weight
            for b in range(0, len(valid), 512):
                chunk = valid[b:b + 512]
                seq = np.zeros((len(chunk), L), dtype=np.int64)
                for r, (h, _) in enumerate(chunk):
                    h = h[-L:]
                    seq[r, L - len(h):] = h
                scores = model(torch.from_numpy(seq))[:, -1] @ E.t()
                scores[:, 0] = float("-inf")
                for r, (h, t) in enumerate(chunk):
                    seen = [i for i in set(h) if i != t]
                    scores[r, seen] = float("-inf")
                    rank = int((scores[r] > scores[r, t]).sum()) + 1
                    if rank <= 10:
                        hits += 1.0 / math.log2(rank + 1)
        model.train()
        return hits / len(valid)

    for epoch in range(1, a.epochs + 1):
        model.train()
        order = rng.permutation(len(train))
        for b in range(0, len(order), a.batch_size):
            idx = order[b:b + a.batch_size]
            h = model(torch.from_numpy(inputs[idx])).reshape(-1, a.dim)
            t = torch.from_numpy(targets[idx]).reshape(-1)
            keep = t.ne(0)
            h, t = h[keep], t[keep]
            E = model.items.weight
            if a.loss == "softmax":
                loss = F.cross_entropy(h @ E.t(), t)
            else:
                neg = torch.randint(1, n_items, (a.negatives,))
                pos = (h * E[t]).sum(-1, keepdim=True)
                negl = (h @ E[neg].t()).masked_fill(neg[None, :].eq(t[:, None]), float("-inf"))
                logits = torch.cat([pos, negl], 1)
                loss = F.cross_entropy(logits, torch.zeros(len(logits), dtype=torch.long))
            step += 1
            for g in opt.param_groups:
                g["lr"] = a.lr * min(1.0, step / 100)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            with torch.no_grad():
                model.items.weight[0].zero_()
        if epoch % a.eval_every == 0:
            v = validate()
            print(json.dumps({"epoch": epoch, "seconds": time.time() - t_start, "valid_ndcg@10": v}), flush=True)
            if v >= a.target:
                reached = time.time() - t_start
                break
    print(json.dumps({"what": "pytorch reference sasrec", "target": a.target, "seconds_to_target": reached,
                      "epochs": epoch, "loss": a.loss}), flush=True)


if __name__ == "__main__":
    main()
