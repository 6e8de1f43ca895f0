"""Driver of bench/bleu_vs_sacrebleu.sh: builds the corpus, checks both tools print the same
BLEU line, times them (median of RUNS wall-clock runs, each tool run alternately in the same
session) and writes the ratio to JSON."""

import argparse
import csv
import json
import os
import platform
import random
import statistics
import subprocess
import tempfile
import time


def sentences_from_bible(path):
    with open(path, encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [r[1] for r in rows[1:] if len(r) >= 2 and r[1].strip()]


def synthetic_sentences(n, rng):
    words = ("the of and to in a is that for it as was with be by on not he I this are or his "
             "from at which but have an they you were her she there one all we their been has "
             "would when if who will more no out so said what up its about into them can only").split()
    return [" ".join(rng.choice(words) for _ in range(rng.randint(5, 40))).capitalize() + "."
            for _ in range(n)]


def perturb(sentence, rng):
    """A plausible system output: a few word drops, swaps, substitutions and case changes."""
    w = sentence.split()
    for _ in range(rng.randint(0, 4)):
        if len(w) < 3:
            break
        i = rng.randrange(len(w))
        op = rng.random()
        if op < 0.3:
            del w[i]
        elif op < 0.55:
            j = rng.randrange(len(w))
            w[i], w[j] = w[j], w[i]
        elif op < 0.8:
            w[i] = rng.choice(w)
        else:
            w[i] = w[i].lower() if w[i][:1].isupper() else w[i].capitalize()
    return " ".join(w)


def build_corpus(args, tmp):
    rng = random.Random(20240601)
    if os.path.exists(args.bible):
        base, source = sentences_from_bible(args.bible), args.bible
    else:
        base, source = synthetic_sentences(8000, rng), "synthetic"
    refs = [base[i % len(base)] for i in range(args.sentences)]
    hyps = [perturb(r, rng) for r in refs]
    ref_path, hyp_path = os.path.join(tmp, "ref.txt"), os.path.join(tmp, "hyp.txt")
    for path, lines in ((ref_path, refs), (hyp_path, hyps)):
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    return ref_path, hyp_path, source


def run(cmd):
    start = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()
    return time.perf_counter() - start, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seq-score", required=True)
    ap.add_argument("--sacrebleu", required=True)
    ap.add_argument("--sentences", type=int, default=100000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--bible", default="data/bible-en-es/nt_web_rv1909.tsv")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        ref, hyp, source = build_corpus(args, tmp)
        ours_cmd = [args.seq_score, "bleu", "-r", ref, hyp, "-w", "4"]
        theirs_cmd = [args.sacrebleu, ref, "-i", hyp, "-f", "text", "-w", "4", "-q"]
        ours_times, theirs_times = [], []
        ours_out = theirs_out = None
        for _ in range(args.runs):
            t, ours_out = run(ours_cmd)
            ours_times.append(t)
            t, theirs_out = run(theirs_cmd)
            theirs_times.append(t)

    same = ours_out == theirs_out
    ours_med, theirs_med = statistics.median(ours_times), statistics.median(theirs_times)
    result = {
        "benchmark": "seq-score bleu vs sacrebleu CLI (corpus BLEU, 13a, exp smoothing, 1 reference)",
        "sentences": args.sentences,
        "corpus_source": source,
        "runs": args.runs,
        "seq_score_seconds": ours_times,
        "sacrebleu_seconds": theirs_times,
        "seq_score_median_s": ours_med,
        "sacrebleu_median_s": theirs_med,
        "speedup": theirs_med / ours_med,
        "same_output": same,
        "seq_score_output": ours_out,
        "sacrebleu_output": theirs_out,
        "cpus": os.cpu_count(),
        "load_average_1_5_15_min_after": list(os.getloadavg()),
        "machine": platform.machine(),
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print(json.dumps({k: result[k] for k in ("sentences", "seq_score_median_s", "sacrebleu_median_s", "speedup", "same_output")}))
    print("seq-score:", ours_out)
    print("sacrebleu:", theirs_out)
    if not same:
        raise SystemExit("the two tools printed different BLEU lines")


if __name__ == "__main__":
    main()
