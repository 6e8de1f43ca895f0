"""Writes ud-ewt/split-seed0.tsv and uner-ewt/split-seed0.tsv: the split of bench/tasks/task2_tagging.py.

Run from data/:  python scripts/ewt_split.py   (needs numpy)
The baseline trains on the dev file: its sentences shuffled with numpy RandomState(0), the first
round(10 %) held out as valid, the rest train. Each row names a sentence by its 0-based index in
the dev file, in the order the baseline iterates them.
"""
import numpy as np


def count_sentences(path):
    n, in_sentence = 0, False
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                if in_sentence:
                    n += 1
                in_sentence = False
            elif not line.startswith("#"):
                in_sentence = True
    return n + int(in_sentence)


for folder, name in (("ud-ewt", "en_ewt-ud-dev.conllu"), ("uner-ewt", "en_ewt-ud-dev.iob2")):
    n = count_sentences(f"{folder}/{name}")
    idx = np.arange(n)
    np.random.RandomState(0).shuffle(idx)
    nva = int(round(0.1 * n))
    with open(f"{folder}/split-seed0.tsv", "w") as f:
        f.write(f"# The train/valid split of ../../bench/tasks/task2_tagging.py over {name} (numpy RandomState(0), 10 % valid).\n")
        f.write("# split<TAB>sentence (0-based index in the dev file); rows in the order the baseline iterates them.\n")
        for i in idx[:nva]:
            f.write(f"valid\t{i}\n")
        for i in idx[nva:]:
            f.write(f"train\t{i}\n")
    print(folder, n, nva, n - nva)
