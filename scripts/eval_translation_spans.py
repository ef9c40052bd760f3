#!/usr/bin/env python3
"""The translation model's span candidates against the human error spans of WMT MQM.

    python scripts/eval_translation_spans.py [--tune-sources 20] [--sources 20] [--ted-sources N]
        [--systems 5] [--seed 1] [--no-backtranslation] [--translator NAME] [--logprob T]

Two kinds of candidates come from the translator (the model serving the
``translator`` role; by default Qwen2.5-Coder-0.5B-Instruct):

* **MT side** (``tm_logprob``'s spans, :func:`mtcheck.metrics.translation.unlikely_stretches`):
  words with log P(word | source) ≤ a threshold and, optionally, no likelier
  than without the source (PMI). The two thresholds are chosen on a
  newstest2020 sample (the grid is printed; an infinite PMI threshold is
  the conditional reading alone): the most F1 among settings whose precision is at least
  twice the rate of error characters, so that a flag means something. Then
  they are scored, unchanged, on newstest2021 and TED samples.
* **Source side** (``bt_chrf``'s spans, :func:`mtcheck.metrics.translation.divergent_stretches`):
  source words the back-translation does not give back, against the
  characters raters marked in the *source* (omissions, in these files).

Scores are character precision/recall/F1 and span F1 against the union of the
raters, for all errors and for major errors (a flag counts as major there, the
question being whether flags fall on major errors), beside flag-everything and
random flags at the detector's own density, measured on the same items.
Sampling is by source, ``--systems`` translations each (seeded), as in
``bench_translation_signals.py``. Generations and scores are cached
(``$MTCHECK_CACHE_DIR/translations`` and ``.../eval-translation-spans``).
Exits 0 with a message without the shared data or the model.
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from mtcheck.errors import DataUnavailableError, ModelUnavailableError  # noqa: E402

LOGPROB_GRID = (-3.0, -4.0, -5.0, -6.0, -7.0, -8.0, -10.0, -12.0)
PMI_GRID = (float("inf"), 2.0, 1.0, 0.0, -1.0, -2.0)


def marks_of(spans) -> dict[int, str]:
    return {k: "major" for s in spans for k in range(s.start, s.end)}


def random_marks(texts, density, seed) -> list[dict[int, str]]:
    """Whole words flagged at random until ``density`` of each text's characters (in expectation)."""
    import regex

    rng = random.Random(seed)
    out = []
    for t in texts:
        m = {}
        for w in regex.finditer(r"\p{Han}|[^\s\p{Han}]+", t):
            if rng.random() < density:
                m.update({k: "major" for k in range(w.start(), w.end())})
        out.append(m)
    return out


def row(name, pairs):
    from mtcheck.metaeval.spans import span_scores

    a, m = span_scores(pairs), span_scores(pairs, major_only=True)
    flagged = sum(len(p) for p, _ in pairs)
    return (f"| {name} | {a.precision:.3f} | {a.recall:.3f} | {a.f1:.3f} | {a.span_f1:.3f} "
            f"| {m.precision:.3f} | {m.recall:.3f} | {m.f1:.3f} | {flagged} |")


HEAD = ("| detector | char P | char R | char F1 | span F1 | major P | major R | major F1 | flagged chars |\n"
        "|---|---|---|---|---|---|---|---|---|")


def load_set(name, n_sources, n_systems, seed):
    from bench_translation_signals import sample

    from mtcheck.metaeval import loaders
    from mtcheck.metaeval.spans import rater_marks, union_marks

    load = {"newstest2020": loaders.load_mqm_newstest2020, "newstest2021": loaders.load_mqm_newstest2021,
            "ted": loaders.load_mqm_ted}[name]
    errors = loaders.mqm_errors(name)
    items = sample(load(), n_sources, n_systems, seed)
    chosen = {(it.system, it.item): it.mt for it in items}
    gold = rater_marks(errors.path, chosen, rename=errors.rename, segid_map=errors.segid_map)
    src_gold = rater_marks(errors.path, {(it.system, it.item): it.source for it in items}, side="source",
                           rename=errors.rename, segid_map=errors.segid_map)
    kept = [it for it in items if (it.system, it.item) in gold]
    return kept, [union_marks(gold[(it.system, it.item)]) for it in kept], \
        [union_marks(src_gold.get((it.system, it.item), {})) for it in kept]


def readings(tr, items, cache: Path, with_free: bool = True):
    """Per item ``(cond, free)`` token scores (``free`` is ``None`` without ``with_free``), kept on disk."""
    what = (tr.name, [(it.source, it.mt) for it in items]) if with_free else \
        (tr.name, "conditional only", [(it.source, it.mt) for it in items])
    path = cache / f"{hashlib.sha256(repr(what).encode()).hexdigest()[:16]}.pickle"
    if path.exists():
        with path.open("rb") as fh:
            return pickle.load(fh), 0.0
    t = time.perf_counter()
    cond = tr.score([it.source for it in items], [it.mt for it in items], "zh", "en")
    free = tr.inner.score_unconditional([it.mt for it in items], "en") if with_free else [None] * len(cond)
    spent = time.perf_counter() - t
    cache.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        pickle.dump(list(zip(cond, free)), fh)
    return list(zip(cond, free)), spent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tune-sources", type=int, default=20, help="newstest2020 sources to choose thresholds on")
    ap.add_argument("--sources", type=int, default=20, help="newstest2021 sources to test on")
    ap.add_argument("--ted-sources", type=int, default=None, help="TED sources to test on (default: --sources)")
    ap.add_argument("--systems", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-backtranslation", action="store_true", help="skip the source-side (generation) part")
    ap.add_argument("--translator", help="a registered translator name, directory or hub id (default: the default)")
    ap.add_argument("--logprob", type=float, help="use this log P threshold instead of choosing one (no PMI)")
    args = ap.parse_args(argv)
    print("$ python scripts/eval_translation_spans.py " + " ".join(argv if argv is not None else sys.argv[1:]))

    import mtcheck.models  # noqa: F401  (registers the models)
    from mtcheck.metrics.translation import cached_translator, divergent_stretches, unlikely_stretches
    from mtcheck.models.lm import cache_root

    try:
        sets = {"newstest2020": load_set("newstest2020", args.tune_sources, args.systems, args.seed)}
        sets["newstest2021"] = load_set("newstest2021", args.sources, args.systems, args.seed)
        ted = args.sources if args.ted_sources is None else args.ted_sources
        sets["ted"] = load_set("ted", ted, args.systems, args.seed)
    except DataUnavailableError as exc:
        print(f"eval_translation_spans: skipped: {exc}")
        return 0
    if args.translator:
        from mtcheck.models import registry

        registry.set_overrides({"translator": args.translator})
    try:
        tr = cached_translator()
    except ModelUnavailableError as exc:
        print(f"eval_translation_spans: skipped: {exc}")
        return 0
    if not hasattr(tr.inner, "score_unconditional"):
        print(f"eval_translation_spans: skipped: the translator {tr.name} cannot score without a source")
        return 0
    cache = cache_root() / "eval-translation-spans"
    read = {}
    items = sets["newstest2020"][0]
    read["newstest2020"], spent = readings(tr, items, cache, with_free=args.logprob is None)
    if spent:
        print(f"newstest2020: forced decoding with and without the source, {len(items)} items: "
              f"{spent / len(items):.2f} s/item")

    # ---- choose the thresholds on newstest2020
    items, gold, _ = sets["newstest2020"]
    base = sum(len(g) for g in gold) / sum(len(it.mt) for it in items)
    print(f"\n## Threshold grid on newstest2020 ({len(items)} items; error-character rate {base:.3f})\n")
    print("| log P ≤ | PMI ≤ | char P | char R | char F1 | major F1 |\n|---|---|---|---|---|---|")
    from mtcheck.metaeval.spans import span_scores

    best = None if args.logprob is None else (None, args.logprob, float("inf"))
    for lp in LOGPROB_GRID if args.logprob is None else ():
        for pmi in PMI_GRID:
            preds = [marks_of(unlikely_stretches(c, f, lp, pmi)) for c, f in read["newstest2020"]]
            s = span_scores(list(zip(preds, gold)))
            sm = span_scores(list(zip(preds, gold)), major_only=True)
            print(f"| {lp:g} | {pmi:g} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {sm.f1:.3f} |")
            if s.precision >= 2 * base and (best is None or s.f1 > best[0]):
                best = (s.f1, lp, pmi)
    if best is None:
        print("\nno setting reaches twice the error-character rate in precision; using the defaults")
        from mtcheck.metrics.translation import UNLIKELY_LOGPROB, UNLIKELY_PMI

        best = (None, UNLIKELY_LOGPROB, UNLIKELY_PMI)
    _, lp, pmi = best
    print(f"\nchosen: log P ≤ {lp:g}, PMI ≤ {pmi:g}")
    for name in ("newstest2021", "ted"):
        items = sets[name][0]
        read[name], spent = readings(tr, items, cache, with_free=pmi != float("inf"))
        if spent:
            print(f"{name}: forced decoding, {len(items)} items: {spent / len(items):.2f} s/item")

    # ---- MT side, every set with the chosen thresholds
    for name, (items, gold, _) in sets.items():
        preds = [marks_of(unlikely_stretches(c, f, lp, pmi)) for c, f in read[name]]
        density = sum(len(p) for p in preds) / max(1, sum(len(it.mt) for it in items))
        print(f"\n## MT side, {name} ({len(items)} items{', tuning set' if name == 'newstest2020' else ''})\n")
        print(HEAD)
        print(row(f"`tm_logprob` spans (log P ≤ {lp:g}, PMI ≤ {pmi:g})", list(zip(preds, gold))))
        print(row("flag everything", [({k: "major" for k in range(len(it.mt))}, g) for it, g in zip(items, gold)]))
        print(row(f"random words at the same density ({density:.3f})",
                  list(zip(random_marks([it.mt for it in items], density, args.seed), gold))))

    # ---- source side from the back-translations (generation: the slow part)
    if args.no_backtranslation:
        return 0
    for name in ("newstest2021", "ted"):
        items, _, src_gold = sets[name]
        t = time.perf_counter()
        backs = tr.translate([it.mt for it in items], "en", "zh")
        spent = time.perf_counter() - t
        preds = [marks_of(divergent_stretches(it.source, b)) if b else {} for it, b in zip(items, backs)]
        density = sum(len(p) for p in preds) / max(1, sum(len(it.source) for it in items))
        n_gold = sum(1 for g in src_gold if g)
        print(f"\n## Source side (back-translation), {name} ({len(items)} items, {n_gold} with a source-side "
              f"error mark; back-translation {spent / len(items):.2f} s/item, 0 when cached)\n")
        print(HEAD)
        print(row("`bt_chrf` divergent stretches", list(zip(preds, src_gold))))
        print(row("flag everything", [({k: "major" for k in range(len(it.source))}, g)
                                      for it, g in zip(items, src_gold)]))
        print(row(f"random words at the same density ({density:.3f})",
                  list(zip(random_marks([it.source for it in items], density, args.seed), src_gold))))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS {rss:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
