"""Writes rt-polarity/split-seed0.tsv: the split of bench/tasks/task1_sentiment.py.

Run from data/:  python scripts/rt_polarity_split.py   (needs numpy)
The same loading (non-blank lines, pos first) and stratified_split (80/10/10 per class,
numpy RandomState(0)) as the PyTorch baseline; each row names the snippet by its file and line.
"""
import numpy as np

xs, ys, src = [], [], []
for lab, fn in ((1, "rt-polarity/rt-polarity.pos"), (0, "rt-polarity/rt-polarity.neg")):
    with open(fn, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if line.split():
                xs.append(line); ys.append(lab); src.append((fn.rsplit(".", 1)[-1], i))
rng = np.random.RandomState(0)
tr, va, te = [], [], []
ys = np.asarray(ys)
for c in (0, 1):
    idx = np.where(ys == c)[0]
    rng.shuffle(idx)
    n = len(idx); ntr = int(round(0.8 * n)); nva = int(round(0.1 * n))
    tr += idx[:ntr].tolist(); va += idx[ntr:ntr + nva].tolist(); te += idx[ntr + nva:].tolist()
with open("rt-polarity/split-seed0.tsv", "w") as f:
    f.write("# The train/valid/test split of ../../bench/tasks (task1_sentiment.py: stratified 80/10/10, numpy RandomState(0)).\n")
    f.write("# split<TAB>label<TAB>line (1-based line of rt-polarity.<label>); rows in the order the baseline iterates them.\n")
    for name, ids in (("train", tr), ("valid", va), ("test", te)):
        for i in ids:
            f.write(f"{name}\t{src[i][0]}\t{src[i][1]}\n")
print(len(tr), len(va), len(te))
