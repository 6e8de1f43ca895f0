"""Generates randomised reference cases (same schema as tests/fixtures/metrics/cases.json)
by running the real Python libraries, for a deeper conformance run:

    python3 -m venv /root/venvs/metrics
    /root/venvs/metrics/bin/pip install sacrebleu==2.6.0 rouge-score==0.1.2 nltk==3.10.4 \
        scikit-learn==1.9.1 seqeval==1.2.2
    /root/venvs/metrics/bin/python crates/seqmodel-metrics/scripts/gen_extra_cases.py \
        --bible data/bible-en-es/nt_web_rv1909.tsv --out /tmp/extra_cases.json
    SEQMODEL_METRICS_CASES=/tmp/extra_cases.json cargo test -p seqmodel-metrics --test conformance

`--families` selects the case families (default: all but `ter` and `zh`). The checked-in
fixture tests/fixtures/metrics/ter_zh_cases.json (TER with every option, BLEU with the `zh`
tokeniser on Chinese text) is this script's output with sacrebleu 2.6.0 alone installed:

    python crates/seqmodel-metrics/scripts/gen_extra_cases.py --families ter,zh --n 50 \
        --seed 11 --out tests/fixtures/metrics/ter_zh_cases.json

Inputs mix real sentences (English and Spanish Bible verses, hand-written Chinese) with random
edits (deletions, swaps, insertions, case changes, repeats), Unicode punctuation and symbols,
HTML entities, numbers, tabs and odd whitespace. Only the libraries a family needs are imported.
"""

import argparse
import csv
import json
import random

import sacrebleu
from sacrebleu.metrics import BLEU, CHRF, TER

EXTRAS = ["€", "«", "»", "—", "¿", "¡", "&amp;", "&quot;", "1,000.50", "3.5", "5-year-old's", "(", ")", "\"", "'",
          "...", "$", "%", "Ça", "İstanbul", "ΣΟΦΙΑ", "naïve", "\u3000", "\t", "e.g.", "U.S.", "--", "10-12", "x\u00a0y"]


def sentences(path):
    with open(path, encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]
    return [r[1] for r in rows if len(r) > 2] + [r[2] for r in rows if len(r) > 2]


def edit(s, rng):
    w = s.split(" ")
    for _ in range(rng.randint(0, 5)):
        if len(w) < 2:
            break
        i = rng.randrange(len(w))
        op = rng.random()
        if op < 0.25:
            del w[i]
        elif op < 0.45:
            j = rng.randrange(len(w))
            w[i], w[j] = w[j], w[i]
        elif op < 0.7:
            w.insert(i, rng.choice(EXTRAS))
        elif op < 0.85:
            w[i] = w[i].upper()
        else:
            w[i] = rng.choice(w)
    return " ".join(w) + rng.choice(["", "", " ", "  \t"])


def bleu_case(k, sents, rng, sentence_level):
    n = 1 if sentence_level else rng.randint(1, 30)
    nrefs = rng.randint(1, 3)
    refs = [[edit(rng.choice(sents), rng) for _ in range(n)] for _ in range(nrefs)]
    hyps = [edit(refs[0][i], rng) for i in range(n)]
    tok = rng.choice(["13a", "13a", "intl", "char", "none"])
    smooth = rng.choice(["exp", "floor", "add-k", "none"])
    value = rng.choice([None, None, 0.5, 2]) if smooth in ("floor", "add-k") else None
    lc = rng.random() < 0.3
    eff = sentence_level or rng.random() < 0.3
    m = BLEU(tokenize=tok, smooth_method=smooth, smooth_value=value, lowercase=lc, effective_order=eff)
    s = m.sentence_score(hyps[0], [r[0] for r in refs]) if sentence_level else m.corpus_score(hyps, refs)
    exp = {"score": s.score, "bp": s.bp, "sys_len": float(s.sys_len), "ref_len": float(s.ref_len)}
    for i in range(4):
        exp[f"precision_{i + 1}"] = s.precisions[i]
        exp[f"counts_{i + 1}"] = float(s.counts[i])
        exp[f"totals_{i + 1}"] = float(s.totals[i])
    params = {"tokenize": tok, "smooth_method": smooth, "smooth_value": value, "lowercase": lc,
              "use_effective_order": eff, "reference": "sacrebleu " + sacrebleu.__version__}
    if sentence_level:
        return {"id": f"x_bleu_sent_{k}", "metric": "bleu_sentence", "params": params,
                "inputs": {"hypothesis": hyps[0], "references": [r[0] for r in refs]}, "expected": exp}
    return {"id": f"x_bleu_corpus_{k}", "metric": "bleu_corpus", "params": params,
            "inputs": {"hypotheses": hyps, "references": refs,
                       "references_per_hypothesis": [list(x) for x in zip(*refs)]}, "expected": exp}


def chrf_case(k, sents, rng):
    sentence_level = rng.random() < 0.4
    n = 1 if sentence_level else rng.randint(1, 20)
    nrefs = rng.randint(1, 3)
    refs = [[edit(rng.choice(sents), rng) for _ in range(n)] for _ in range(nrefs)]
    hyps = [edit(refs[rng.randrange(nrefs)][i], rng) for i in range(n)]
    params = {"char_order": 6, "word_order": rng.choice([0, 2]), "beta": 2, "lowercase": rng.random() < 0.3,
              "whitespace": rng.random() < 0.2, "eps_smoothing": rng.random() < 0.3}
    m = CHRF(char_order=6, word_order=params["word_order"], beta=2, lowercase=params["lowercase"],
             whitespace=params["whitespace"], eps_smoothing=params["eps_smoothing"])
    if sentence_level:
        s = m.sentence_score(hyps[0], [r[0] for r in refs])
        return {"id": f"x_chrf_sent_{k}", "metric": "chrf_sentence", "params": params,
                "inputs": {"hypothesis": hyps[0], "references": [r[0] for r in refs]}, "expected": {"score": s.score}}
    s = m.corpus_score(hyps, refs)
    return {"id": f"x_chrf_corpus_{k}", "metric": "chrf_corpus", "params": params,
            "inputs": {"hypotheses": hyps, "references": refs,
                       "references_per_hypothesis": [list(x) for x in zip(*refs)]}, "expected": {"score": s.score}}


def rouge_case(k, sents, rng):
    from rouge_score import rouge_scorer

    stem = rng.random() < 0.6
    types = ["rouge1", "rouge2", "rougeL", "rougeLsum"]
    scorer = rouge_scorer.RougeScorer(types, use_stemmer=stem)
    target = "\n".join(edit(rng.choice(sents), rng) for _ in range(rng.randint(1, 3)))
    pred = "\n".join(edit(s, rng) for s in target.split("\n")[: rng.randint(1, 3)])
    exp = {}
    if rng.random() < 0.3:
        targets = [target] + [edit(rng.choice(sents), rng) for _ in range(2)]
        sc = scorer.score_multi(targets, pred)
        case = {"id": f"x_rouge_multi_{k}", "metric": "rouge_multi", "inputs": {"targets": targets, "prediction": pred}}
    else:
        sc = scorer.score(target, pred)
        case = {"id": f"x_rouge_{k}", "metric": "rouge", "inputs": {"target": target, "prediction": pred}}
    for t in types:
        exp[f"{t}.precision"], exp[f"{t}.recall"], exp[f"{t}.fmeasure"] = sc[t].precision, sc[t].recall, sc[t].fmeasure
    case["params"] = {"rouge_types": types, "use_stemmer": stem}
    case["expected"] = exp
    return case


def prf_case(k, rng):
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    labels = rng.choice([[0, 1], [0, 1, 2, 3], ["cat", "dog", "eel"]])
    n = rng.randint(1, 40)
    y_true = [rng.choice(labels) for _ in range(n)]
    y_pred = [rng.choice(labels) for _ in range(n)]
    average = rng.choice([None, "micro", "macro", "weighted"])
    zd = rng.choice([0, 1])
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, average=average, zero_division=zd)
    if average is None:
        order = sorted(set(y_true) | set(y_pred))
        exp = {}
        for i, lab in enumerate(order):
            exp[f"precision.{lab}"], exp[f"recall.{lab}"] = float(p[i]), float(r[i])
            exp[f"f1.{lab}"], exp[f"support.{lab}"] = float(f[i]), float(s[i])
    else:
        exp = {"precision": float(p), "recall": float(r), "f1": float(f)}
    cm = confusion_matrix(y_true, y_pred)
    cases = [{"id": f"x_prf_{k}", "metric": "precision_recall_f1",
              "params": {"average": average, "zero_division": zd, "beta": 1.0},
              "inputs": {"y_true": y_true, "y_pred": y_pred}, "expected": exp},
             {"id": f"x_cm_{k}", "metric": "confusion_matrix", "params": {},
              "inputs": {"y_true": y_true, "y_pred": y_pred},
              "expected": {f"cm.{i}.{j}": float(cm[i][j]) for i in range(len(cm)) for j in range(len(cm))}}]
    return cases


def seqeval_case(k, rng):
    from seqeval.metrics import accuracy_score as seq_accuracy
    from seqeval.metrics import classification_report
    from seqeval.scheme import BILOU, IOB2, IOBES

    mode = rng.choice(["default", "IOB2", "IOBES", "BILOU"])
    prefixes = {"default": "BIOES", "IOB2": "BIO", "IOBES": "BIOES", "BILOU": "BILOU"}[mode]
    types = ["PER", "LOC", "ORG"]

    def tag():
        p = rng.choice(prefixes + "OO")
        return "O" if p == "O" else f"{p}-{rng.choice(types)}"

    sents = [[tag() for _ in range(rng.randint(1, 12))] for _ in range(rng.randint(1, 6))]
    preds = [[t if rng.random() < 0.6 else tag() for t in s] for s in sents]
    if mode == "default":
        rep = classification_report(sents, preds, output_dict=True, zero_division=0)
        params = {"mode": "default", "scheme": None}
    else:
        scheme = {"IOB2": IOB2, "IOBES": IOBES, "BILOU": BILOU}[mode]
        rep = classification_report(sents, preds, output_dict=True, zero_division=0, mode="strict", scheme=scheme)
        params = {"mode": "strict", "scheme": mode}
    exp = {}
    for key, v in rep.items():
        name = key.replace(" avg", "")
        for m in ("precision", "recall", "f1-score", "support"):
            exp[f"{name}.{'f1' if m == 'f1-score' else m}"] = float(v[m])
    exp["token_accuracy"] = float(seq_accuracy(sents, preds))
    return {"id": f"x_seqeval_{k}", "metric": "seqeval", "params": params,
            "inputs": {"y_true": sents, "y_pred": preds}, "expected": exp}


# Hand-written Chinese sentences (with Latin words, digits and full-width punctuation) for the
# `zh` tokeniser and TER's Asian support.
ZH_SENTS = [
    "我爱北京天安门。",
    "今天的天气很好，我们去公园散步吧！",
    "他说：“这本书的价格是€25.50，太贵了。”",
    "请在2024年12月31日之前提交报告（包括附录）。",
    "机器翻译的质量可以用BLEU和TER来评估。",
    "这个模型有3.5亿个参数，训练了10天……",
    "北京、上海和广州是中国的大城市；深圳也很重要。",
    "你知道吗？AI技术发展得非常快！",
    "我们的团队由5名工程师和2名设计师组成。",
    "《红楼梦》是中国古典小说的巅峰之作。",
    "他每天早上六点起床，然后跑步30分钟。",
    "这家餐厅的菜很好吃，但是服务一般。",
    "Python和Rust都是很流行的编程语言。",
    "会议将在下午3:00开始，请准时参加。",
    "她用iPhone拍了一张照片&amp;发给了朋友。",
    "温度从-5°C升到了12°C，变化很大。",
]

ZH_EXTRAS = ["，", "。", "！", "？", "、", "“", "”", "（", "）", "…", "€", "→", "★", "ｱ", "Ａ", "ok", "3.5", "1,000",
             "\u3000", "の", "カタカナ", "한국어", "𠀀", "⺀", "㐀", "﹐"]


def edit_zh(s, rng):
    chars = list(s)
    for _ in range(rng.randint(0, 6)):
        if len(chars) < 2:
            break
        i = rng.randrange(len(chars))
        op = rng.random()
        if op < 0.25:
            del chars[i]
        elif op < 0.45:
            j = rng.randrange(len(chars))
            chars[i], chars[j] = chars[j], chars[i]
        elif op < 0.75:
            chars.insert(i, rng.choice(ZH_EXTRAS))
        else:
            chars.insert(i, " ")
    return "".join(chars) + rng.choice(["", "", " ", "\t"])


def zh_case(k, rng):
    """BLEU with tokenize='zh' on Chinese text, corpus or sentence level."""
    sentence_level = rng.random() < 0.4
    n = 1 if sentence_level else rng.randint(1, 12)
    nrefs = rng.randint(1, 2)
    refs = [[edit_zh(rng.choice(ZH_SENTS), rng) for _ in range(n)] for _ in range(nrefs)]
    hyps = [edit_zh(refs[0][i], rng) for i in range(n)]
    smooth = rng.choice(["exp", "floor", "none"])
    lc = rng.random() < 0.3
    eff = sentence_level or rng.random() < 0.3
    m = BLEU(tokenize="zh", smooth_method=smooth, lowercase=lc, effective_order=eff)
    s = m.sentence_score(hyps[0], [r[0] for r in refs]) if sentence_level else m.corpus_score(hyps, refs)
    exp = {"score": s.score, "bp": s.bp, "sys_len": float(s.sys_len), "ref_len": float(s.ref_len)}
    for i in range(4):
        exp[f"precision_{i + 1}"] = s.precisions[i]
        exp[f"counts_{i + 1}"] = float(s.counts[i])
        exp[f"totals_{i + 1}"] = float(s.totals[i])
    params = {"tokenize": "zh", "smooth_method": smooth, "smooth_value": None, "lowercase": lc,
              "use_effective_order": eff, "reference": "sacrebleu " + sacrebleu.__version__}
    if sentence_level:
        return {"id": f"zh_bleu_sent_{k}", "metric": "bleu_sentence", "params": params,
                "inputs": {"hypothesis": hyps[0], "references": [r[0] for r in refs]}, "expected": exp}
    return {"id": f"zh_bleu_corpus_{k}", "metric": "bleu_corpus", "params": params,
            "inputs": {"hypotheses": hyps, "references": refs,
                       "references_per_hypothesis": [list(x) for x in zip(*refs)]}, "expected": exp}


def long_edit(sents, rng):
    """A long segment (several verses) and a heavily reordered copy: exercises the shift
    budget, the shift distance limit and the beam of TER's edit distance."""
    ref = " ".join(rng.choice(sents) for _ in range(rng.randint(2, 5)))
    w = ref.split(" ")
    for _ in range(rng.randint(2, 12)):
        i, j = sorted(rng.randrange(len(w) + 1) for _ in range(2))
        block = w[i:j][: rng.randint(1, 12)]
        del w[i:i + len(block)]
        t = rng.randrange(len(w) + 1)
        w[t:t] = block
    return " ".join(w), ref


def ter_case(k, sents, rng):
    """TER with random options: English/Spanish verses with edits, Chinese text (for
    asian_support), long reordered segments, very unequal lengths and empty segments."""
    sentence_level = rng.random() < 0.35
    n = 1 if sentence_level else rng.randint(1, 10)
    nrefs = rng.choice([1, 1, 2, 3])
    kind = rng.choice(["bible", "bible", "zh", "long", "unequal"])
    refs = [[] for _ in range(nrefs)]
    hyps = []
    for _ in range(n):
        if kind == "zh":
            base = rng.choice(ZH_SENTS)
            hyp, first = edit_zh(base, rng), edit_zh(base, rng)
        elif kind == "long":
            hyp, first = long_edit(sents, rng)
        elif kind == "unequal":
            first = " ".join(rng.choice(sents) for _ in range(rng.randint(3, 6)))
            hyp = " ".join(rng.sample(first.split(" "), rng.randint(0, 3)))
            if rng.random() < 0.5:
                hyp, first = first, hyp
        else:
            first = edit(rng.choice(sents), rng)
            hyp = edit(first, rng)
        hyps.append(hyp)
        refs[0].append(first)
        for r in refs[1:]:
            r.append("" if rng.random() < 0.1 else edit(first, rng) if kind != "zh" else edit_zh(first, rng))
    params = {"normalized": rng.random() < 0.5, "no_punct": rng.random() < 0.35,
              "asian_support": rng.random() < (0.7 if kind == "zh" else 0.2),
              "case_sensitive": rng.random() < 0.35, "reference": "sacrebleu " + sacrebleu.__version__}
    m = TER(normalized=params["normalized"], no_punct=params["no_punct"],
            asian_support=params["asian_support"], case_sensitive=params["case_sensitive"])
    if sentence_level:
        s = m.sentence_score(hyps[0], [r[0] for r in refs])
        case = {"id": f"ter_sent_{k}", "metric": "ter_sentence",
                "inputs": {"hypothesis": hyps[0], "references": [r[0] for r in refs]}}
    else:
        s = m.corpus_score(hyps, refs)
        case = {"id": f"ter_corpus_{k}", "metric": "ter_corpus",
                "inputs": {"hypotheses": hyps, "references": refs,
                           "references_per_hypothesis": [list(x) for x in zip(*refs)]}}
    case["params"] = params
    case["expected"] = {"score": s.score, "num_edits": float(s.num_edits), "ref_length": float(s.ref_length)}
    return case


FAMILIES = ["bleu", "chrf", "rouge", "prf", "seqeval", "ter", "zh"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bible", default="data/bible-en-es/nt_web_rv1909.tsv")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--families", default="bleu,chrf,rouge,prf,seqeval",
                    help=f"comma-separated subset of {','.join(FAMILIES)}")
    args = ap.parse_args()
    families = args.families.split(",")
    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        ap.error(f"unknown families {unknown}: expected some of {FAMILIES}")
    rng = random.Random(args.seed)
    sents = sentences(args.bible)
    cases = []
    for k in range(args.n):
        if "bleu" in families:
            cases.append(bleu_case(k, sents, rng, sentence_level=False))
            cases.append(bleu_case(k, sents, rng, sentence_level=True))
        if "chrf" in families:
            cases.append(chrf_case(k, sents, rng))
        if "rouge" in families:
            cases.append(rouge_case(k, sents, rng))
        if "prf" in families:
            cases.extend(prf_case(k, rng))
        if "seqeval" in families:
            cases.append(seqeval_case(k, rng))
        if "ter" in families:
            cases.append(ter_case(k, sents, rng))
            cases.append(ter_case(k + args.n, sents, rng))
        if "zh" in families:
            cases.append(zh_case(k, rng))
    # JSON has no NaN (e.g. seqeval's macro average when no entity exists at all): skip those.
    cases = [c for c in cases if all(v == v for v in c["expected"].values())]
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=False, allow_nan=False, indent=0)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {args.out}")


if __name__ == "__main__":
    main()
