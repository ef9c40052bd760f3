"""Benchmark: speed and behaviour of the default translator (Qwen2.5-Coder-0.5B) on newstest2021.

Takes ``--n`` newstest2021 items (Chinese source and English reference ref-A,
from the shared data via :func:`mtcheck.metaeval.loaders.load_mqm_newstest2021`)
and measures, in seconds per sentence:

* loading the model (from the de-quantised cache; the first run builds it,
  which is timed separately and reported as such);
* zh→en generation of the sources, and forced-decoding scores of the
  references given the sources, plus the unconditional score (no source);
* en→zh generation of the references, without and with the Chinese-token
  constraint, and forced-decoding scores of the sources given the references.

For en→zh it also counts outputs containing Han characters and outputs
containing Latin words that do not occur in the English source (the
constraint's target). Other processes slow the CPU, so the load average is
printed with the numbers.

Usage::

    MTCHECK_SHARED_DATA=/path/to/mt-eval-zhen python scripts/bench_translator.py [--n 20] [--seed 1]
        [--threads N] [--batch-size 8] [--show 3]

Without the data or the model's packages it prints why and exits 0.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shlex
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mtcheck.errors import DataUnavailableError, ModelUnavailableError  # noqa: E402
from mtcheck.metaeval.loaders import load_mqm_newstest2021  # noqa: E402

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def foreign_words(output: str, source: str) -> list[str]:
    """Latin words of ``output`` that are not part of any word of ``source`` (case-insensitive)."""
    words = [w.lower() for w in re.findall(r"[A-Za-z]+", source)]
    return [r for r in re.findall(r"[A-Za-z]+", output) if not any(r.lower() in w for w in words)]


def timed(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20, help="newstest2021 items (default 20)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: every available core)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--show", type=int, default=3, help="example outputs to print per direction")
    args = parser.parse_args(argv)
    print("$", shlex.join([Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])]))

    try:
        data = load_mqm_newstest2021()
    except DataUnavailableError as exc:
        print(f"skipped: {exc}")
        return 0
    by_item = {}
    for it in data.items:
        if it.source and it.references and it.item not in by_item:
            by_item[it.item] = (it.source, it.references[0])
    items = sorted(by_item)
    random.Random(args.seed).shuffle(items)
    pairs = [by_item[i] for i in items[: args.n]]
    zh = [p[0] for p in pairs]
    en = [p[1] for p in pairs]
    n = len(pairs)

    from mtcheck.models import hf_translator, lm

    spec = hf_translator.QWEN_TRANSLATOR
    cache = lm.cache_root() / spec.name
    cold = not (cache / "mtcheck-cache.json").exists()
    try:
        model, load_s = timed(hf_translator.load_qwen_gguf, spec)
    except ModelUnavailableError as exc:
        print(f"skipped: {exc}")
        return 0
    model.batch_size = args.batch_size
    if args.threads is not None:
        model.threads = args.threads
    print(f"{n} newstest2021 items (seed {args.seed}); torch threads {model.threads}, batch size {args.batch_size}; "
          f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"load: {load_s:.1f} s ({'cold: assembled, de-quantised and cached' if cold else 'from the cache'})")

    rows = []
    out_en, t = timed(model.translate, zh, "zh", "en")
    rows.append(("zh→en generate", t))
    _, t = timed(model.score, zh, en, "zh", "en")
    rows.append(("zh→en score reference | source", t))
    _, t = timed(model.score_unconditional, en, "en")
    rows.append(("en score reference, no source", t))
    model.constrain = False
    out_zh_free, t = timed(model.translate, en, "en", "zh")
    rows.append(("en→zh generate", t))
    model.constrain = True
    out_zh_tied, t = timed(model.translate, en, "en", "zh")
    rows.append(("en→zh generate, constrained", t))
    model.constrain = False
    _, t = timed(model.score, en, zh, "en", "zh")
    rows.append(("en→zh score source | reference", t))

    print(f"\n{'task':34s} {'s total':>8s} {'s/sent':>7s}")
    for label, seconds in rows:
        print(f"{label:34s} {seconds:8.1f} {seconds / n:7.2f}")
    for label, outs in (("unconstrained", out_zh_free), ("constrained", out_zh_tied)):
        han = sum(1 for o in outs if HAN.search(o))
        foreign = sum(1 for o, s in zip(outs, en) if foreign_words(o, s))
        print(f"en→zh {label:13s}: {han}/{n} outputs contain Han characters, "
              f"{foreign}/{n} contain Latin words absent from the source")
    for label, outs in (("zh→en", out_en), ("en→zh", out_zh_free), ("en→zh constrained", out_zh_tied)):
        lengths = [len(model.tokenizer(o, add_special_tokens=False)["input_ids"]) for o in outs]
        print(f"{label} output tokens: mean {sum(lengths) / n:.1f}, max {max(lengths)}")
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    for k in range(min(args.show, n)):
        print(f"\n[{k}] zh: {zh[k]}\n    → en: {out_en[k]}\n    ref: {en[k]}\n    → zh: {out_zh_free[k]}"
              f"\n    → zh (constrained): {out_zh_tied[k]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
