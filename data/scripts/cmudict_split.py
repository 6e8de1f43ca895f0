"""Writes cmudict/split-seed0.tsv: the word split of bench/tasks/task3_g2p.py.

Run from data/:  python scripts/cmudict_split.py   (needs numpy)
The baseline reads cmudict.dict (a `# comment` stripped, `word(n)` counted as `word`), keeps the
distinct words in file order, shuffles them with numpy RandomState(0) and takes the first
20,000 as train, the next 2,000 as valid and the next 2,000 as test. Each row names one of those
24,000 words, in the shuffled order.
"""
import numpy as np

words = {}
with open("cmudict/cmudict.dict", encoding="utf-8") as f:
    for line in f:
        line = line.split("#")[0].strip()
        if not line:
            continue
        w = line.split()[0]
        if "(" in w and w.endswith(")"):
            w = w[: w.index("(")]
        words.setdefault(w, None)
order = list(words)
np.random.RandomState(0).shuffle(order)
with open("cmudict/split-seed0.tsv", "w", encoding="utf-8") as f:
    f.write("# The word split of ../../bench/tasks/task3_g2p.py (numpy RandomState(0) over the distinct words in file order).\n")
    f.write("# split<TAB>word; rows in the shuffled order: 20,000 train, 2,000 valid, 2,000 test.\n")
    for i, w in enumerate(order[:24000]):
        f.write(f"{'train' if i < 20000 else 'valid' if i < 22000 else 'test'}\t{w}\n")
