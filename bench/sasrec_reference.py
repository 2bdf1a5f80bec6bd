#!/usr/bin/python3
"""PyTorch reference of DriftRec's `sasrec` (same blocks, initialisation, loss and protocol) with
the data pipeline such scripts usually have: every sequence left-padded to max_len.

  /usr/bin/python3 bench/sasrec_reference.py --data Beauty.txt --target 0.05 [--loss softmax|sampled]

With --committed, the block and training of configs/beauty/sasrec.yaml as it resolves on Beauty:
the causal spectral filter mixed into every block (--filter-mix 0.7, --filter-bins 3, over a
max_len window; src/nn/spectral_filter.h), a 4 x dim feed-forward (--ffn 256), dropout 0.4, prefix
samples (--prefixes: one sample per training position, its target at the newest position, the
events before it as the input), an exponential moving average of the weights for validation
(--weight-average 0.999, with TensorFlow's warm-up) and, with --attributes FILE (S3Rec's
item2attributes JSON), each item's vector = its id embedding + the mean of its attributes'
embeddings, for inputs and outputs alike.

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


def low_pass_kernel(window, bins):
    """h[k], k events back: the low-pass keeping DFT bins 0..bins-1 of a window-long sequence, read
    at its newest position (the same formula as src/nn/spectral_filter.cpp)."""
    bins = min(bins, window // 2 + 1)
    h = []
    for k in range(window):
        total = 0.0
        for f in range(bins):
            single = f == 0 or (window % 2 == 0 and f == window // 2)
            total += (1.0 if single else 2.0) * math.cos(2.0 * math.pi * f * k / window)
        h.append(total / window)
    return torch.tensor(h)


class SpectralFilter(nn.Module):
    """Causal FIR low-pass over the sequence axis, output low + beta^2 * (x - low)."""

    def __init__(self, d, window, bins, length):
        super().__init__()
        kernel = low_pass_kernel(window, bins)
        lag = torch.arange(length).unsqueeze(1) - torch.arange(length).unsqueeze(0)
        inside = lag.ge(0) & lag.lt(window)
        self.register_buffer("T", torch.where(inside, kernel[lag.clamp(0, window - 1)], torch.zeros(())))
        self.sqrt_beta = nn.Parameter(torch.ones(d))

    def forward(self, h, valid):
        x = h * valid.unsqueeze(-1)
        low = self.T @ x
        return low + self.sqrt_beta.square() * (x - low)


class Block(nn.Module):
    def __init__(self, d, heads, ffn, dropout, filter_mix=0.0, window=50, bins=3):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.out = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.ff1, self.ff2 = nn.Linear(d, ffn), nn.Linear(ffn, d)
        self.drop = nn.Dropout(dropout)
        self.filter_mix = filter_mix
        self.filter = SpectralFilter(d, window, bins, window) if filter_mix > 0 else None

    def forward(self, x, mask, valid):
        B, L, d = x.shape
        dh = d // self.heads
        h = self.ln1(x)
        q = self.qkv(h).view(B, L, 3, self.heads, dh).permute(2, 0, 3, 1, 4)
        a = torch.softmax(q[0] @ q[1].transpose(-2, -1) / math.sqrt(dh) + mask, -1)
        ctx = (self.drop(a) @ q[2]).permute(0, 2, 1, 3).reshape(B, L, d)
        update = self.drop(self.out(ctx))
        if self.filter is not None:
            update = (1.0 - self.filter_mix) * update + self.filter_mix * self.drop(self.filter(h, valid))
        y = x + update
        return y + self.drop(self.ff2(self.drop(F.gelu(self.ff1(self.ln2(y))))))


class SasRec(nn.Module):
    def __init__(self, n_items, d, max_len, layers, heads, dropout, ffn=0, filter_mix=0.0, bins=3, attributes=None):
        super().__init__()
        self.d = d
        self.items = nn.Embedding(n_items, d, padding_idx=0)
        self.positions = nn.Embedding(max_len, d)
        self.blocks = nn.ModuleList(
            [Block(d, heads, ffn or d, dropout, filter_mix, max_len, bins) for _ in range(layers)])
        self.ln = nn.LayerNorm(d)
        self.drop = nn.Dropout(dropout)
        nn.init.normal_(self.items.weight, 0.0, 1.0 / math.sqrt(d))
        self.attributes = None
        if attributes is not None:  # [n_items, A] attribute index + 1, 0 = none
            self.register_buffer("attr_table", attributes)
            self.register_buffer("attr_count", attributes.ne(0).sum(-1, keepdim=True).clamp_min(1).float())
            self.attributes = nn.Embedding(int(attributes.max()) + 1, d, padding_idx=0)
            nn.init.normal_(self.attributes.weight, 0.0, 1.0 / math.sqrt(d))
        self.zero_padding_rows()

    def zero_padding_rows(self):
        with torch.no_grad():
            self.items.weight[0].zero_()
            if self.attributes is not None:
                self.attributes.weight[0].zero_()

    def item_vectors(self, ids):
        v = self.items(ids)
        if self.attributes is not None:
            v = v + self.attributes(self.attr_table[ids]).sum(-2) / self.attr_count[ids]
        return v

    def all_items(self):
        return self.item_vectors(torch.arange(self.items.weight.size(0)))

    def forward(self, seq):
        B, L = seq.shape
        valid = seq.ne(0)
        pos = torch.arange(L).unsqueeze(0) + (self.positions.weight.size(0) - L)
        x = self.item_vectors(seq) * valid.unsqueeze(-1) * math.sqrt(self.d) + self.positions(pos)
        x = self.drop(x) * valid.unsqueeze(-1)
        causal = torch.ones(L, L, dtype=torch.bool).triu(1)
        blocked = (causal[None, None] | ~valid[:, None, None, :]) & ~torch.eye(L, dtype=torch.bool)
        mask = torch.zeros(blocked.shape).masked_fill(blocked, float("-inf"))
        valid_f = valid.to(x.dtype)
        for b in self.blocks:
            x = b(x, mask, valid_f)
        return self.ln(x)


class WeightAverage:
    """Exponential moving average of the weights with TensorFlow's warm-up, as src/nn/weight_average.h:
    decay min(d, (1 + t) / (10 + t)) after optimiser step t."""

    def __init__(self, params, decay):
        self.params, self.decay = list(params), decay
        self.average = [p.detach().clone() for p in self.params]
        self.raw = None

    def update(self, step):
        d = min(self.decay, (1.0 + step) / (10.0 + step))
        with torch.no_grad():
            for a, p in zip(self.average, self.params):
                a.add_(p.detach() - a, alpha=1.0 - d)

    def apply(self):
        with torch.no_grad():
            self.raw = [p.detach().clone() for p in self.params]
            for a, p in zip(self.average, self.params):
                p.copy_(a)

    def restore(self):
        with torch.no_grad():
            for r, p in zip(self.raw, self.params):
                p.copy_(r)
        self.raw = None


def read_attributes(path, ids, n_items):
    """[n_items, A] attribute index + 1 (0 = none) from S3Rec's item2attributes JSON."""
    raw = json.load(open(path))
    names, rows = {}, [[] for _ in range(n_items)]
    for item, attrs in raw.items():
        if item in ids:
            rows[ids[item]] = [names.setdefault(str(x), len(names) + 1) for x in attrs][:16]
    width = max(1, max(len(r) for r in rows))
    table = torch.zeros(n_items, width, dtype=torch.long)
    for i, r in enumerate(rows):
        table[i, :len(r)] = torch.tensor(r, dtype=torch.long)
    return table


def training_rows(train, L, prefixes):
    """Inputs and targets [rows, L], left-padded. Whole sequences: one row per user, a target at
    every position. Prefix samples: one row per training position t >= 1, the L events before it
    as the input and its target at the newest position only."""
    if not prefixes:
        inputs = np.zeros((len(train), L), dtype=np.int64)
        targets = np.zeros((len(train), L), dtype=np.int64)
        for r, s in enumerate(train):
            s = s[-(L + 1):]
            n = len(s) - 1
            if n > 0:
                inputs[r, L - n:] = s[:-1]
                targets[r, L - n:] = s[1:]
        return inputs, targets
    count = sum(max(0, len(s) - 1) for s in train)
    inputs = np.zeros((count, L), dtype=np.int64)
    targets = np.zeros((count, L), dtype=np.int64)
    r = 0
    for s in train:
        for t in range(1, len(s)):
            h = s[max(0, t - L):t]
            inputs[r, L - len(h):] = h
            targets[r, L - 1] = s[t]
            r += 1
    return inputs, targets


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
    ap.add_argument("--ffn", type=int, default=0, help="feed-forward width (0 = dim)")
    ap.add_argument("--filter-mix", type=float, default=0.0)
    ap.add_argument("--filter-bins", type=int, default=3)
    ap.add_argument("--prefixes", action="store_true", help="prefix samples instead of whole sequences")
    ap.add_argument("--weight-average", type=float, default=0.0)
    ap.add_argument("--attributes", help="S3Rec item2attributes JSON: item vectors + mean attribute embedding")
    ap.add_argument("--committed", action="store_true",
                    help="configs/beauty/sasrec.yaml on Beauty: --ffn 256 --filter-mix 0.7 --dropout 0.4 "
                         "--prefixes --weight-average 0.999 (give --attributes for its item attributes)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--eval-every", type=int, default=1)
    ap.add_argument("--time-limit", type=float, default=0.0, help="stop after this many seconds (0 = none)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    if a.committed:
        a.ffn, a.filter_mix, a.dropout, a.prefixes, a.weight_average = 4 * a.dim, 0.7, 0.4, True, 0.999
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
    inputs, targets = training_rows(train, L, a.prefixes)
    attributes = read_attributes(a.attributes, ids, n_items) if a.attributes else None
    model = SasRec(n_items, a.dim, L, a.layers, a.heads, a.dropout, a.ffn, a.filter_mix, a.filter_bins, attributes)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.0)
    average = WeightAverage(model.parameters(), a.weight_average) if a.weight_average > 0 else None
    step, reached, last = 0, None, None

    def validate():
        model.eval()
        hits = 0.0
        with torch.no_grad():
            E = model.all_items()
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
        order = rng.permutation(len(inputs))
        loss_sum, loss_n = 0.0, 0
        for b in range(0, len(order), a.batch_size):
            idx = order[b:b + a.batch_size]
            h = model(torch.from_numpy(inputs[idx])).reshape(-1, a.dim)
            t = torch.from_numpy(targets[idx]).reshape(-1)
            keep = t.ne(0)
            h, t = h[keep], t[keep]
            E = model.all_items()
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
            loss_sum, loss_n = loss_sum + float(loss) * len(t), loss_n + len(t)
            model.zero_padding_rows()
            if average:
                average.update(step)
        if epoch % a.eval_every == 0:
            if average:
                average.apply()
            v = validate()
            if average:
                average.restore()
            last = v
            print(json.dumps({"epoch": epoch, "seconds": time.time() - t_start, "loss": loss_sum / max(1, loss_n),
                              "valid_ndcg@10": v}), flush=True)
            if v >= a.target:
                reached = time.time() - t_start
                break
        if a.time_limit and time.time() - t_start > a.time_limit:
            break
    print(json.dumps({"what": "pytorch reference sasrec", "target": a.target, "seconds_to_target": reached,
                      "epochs": epoch, "last_valid_ndcg@10": last, "loss": a.loss, "committed": a.committed,
                      "attributes": bool(a.attributes)}), flush=True)


if __name__ == "__main__":
    main()
