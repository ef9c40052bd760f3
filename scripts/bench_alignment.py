"""Compare the length (Gale–Church) and embedding sentence aligners on synthetic document pairs.

Reads WMT newstest2021 zh-en from ``$MTCHECK_SHARED_DATA`` (default
``<repo>/../shared/mt-eval-zhen``): the Chinese source, reference A and the
system outputs named by ``--systems``, all line-aligned. Exits 0 with a
message when the data is absent.

Documents. The first ``--docs`` blocks of ``--doc-size`` consecutive lines
are the documents; each is paired with every English side (the reference
and each system). Even-numbered documents form the *tuning* half, odd ones
the *test* half: ``--tune`` searches the embedding aligner's weights on the
tuning half, and every figure below is measured on the test half only.
``--tune-systems`` adds more English sides (other systems' outputs, or
``all`` of them) to the tuning half only, with edits from their own seeded
generators, so the test half is the same document for document as without
it.

Scenarios (edits per document at disjoint, seeded random places, built by
``make_document`` of ``scripts/fit_length_ratio.py``):

* ``2-1``: two adjacent English lines merged into one sentence, twice;
* ``1-2``: two adjacent Chinese lines merged, twice;
* ``1-0``: one English line dropped (an omission), twice;
* ``0-1``: one Chinese line dropped (an addition in the MT), twice;
* ``all``: one of each of the four edits;
* ``none``: unmodified (all ``1-1``).

Unit evaluation aligns the document's units (lines or merged lines) directly
and counts a predicted bead as correct when its source and target index
sets both equal a true bead's: precision = correct / predicted, recall =
correct / true, F1 their harmonic mean. End-to-end evaluation joins each
document into one paragraph per side, re-splits it with
:func:`~mtcheck.io.split.split_zh` / :func:`~mtcheck.io.split.split_en`
and aligns those sentences; as they need not coincide with the units, the
beads are scored by unit links (see ``fit_length_ratio.py``).

Embeddings come from ``get_model("encoder")`` (multilingual-e5-small) and
are cached on disk (``--cache``, default
``/tmp/mtcheck-bench-alignment-<model>.pkl``) so that reruns only align.

Usage::

    python scripts/bench_alignment.py [--docs 30] [--systems Online-B] [--seed 2021] [--tune]
        [--tune-systems NAME,...|all] [--pairs-mean] [--ablate]

The default (30 documents, reference + Online-B, 2,874 texts to embed) is
sized to run in under 10 minutes from a cold cache on a 2-core machine:
``--tune`` with an empty cache took 272 s, 248 s of it embedding (measured
under load). 15 test documents are too few for firm figures, and so were
the 50 tuning documents × 2 sides of the larger run below before
``--tune-systems``: every weight setting scored about 0.02 higher on them
than on the test half with all four edits, and small changes moved the
picked weights. The current defaults come from

    python scripts/bench_alignment.py --docs 100 --systems Online-B --tune \\
        --tune-systems Online-A,ZengHuiMT,SMU --pairs-mean --ablate

(seed 2021; 100 documents: 50 test documents × 2 English sides, reference A
and Online-B = 100 test document pairs per scenario, exactly as before;
tuning half 50 documents × 5 sides = 250 document pairs per scenario). The
three extra systems are the first three of the 22 other zh-en systems
shuffled with ``random.Random(2021)``, a number chosen for run time (each
new side costs about 1,200 texts to embed, about 4.7 texts/s on the shared
2-core machine), fixed before any result was seen. That run took 1,036 s,
728 s of it embedding 3,682 new texts; 277 s tuning; load average 2-8.
Started from the weights of issue #8 (min F1 0.9562 on the larger tuning
half, mean 0.9798) the search moved only ``match_cost`` 1.3 → 1.4 (min
0.9572, mean 0.9765; a second round moved nothing); rerun from the new
defaults with every embedding cached it keeps them and reproduces every
figure (106 s, 90 s of it tuning). Test half, bead F1:

    scenario   length   embedding   before (match_cost 1.3)   issue #8's previous   pairs="mean"
    none       0.972    0.984       1.000                     1.000                 0.979
    2-1        0.960    0.972       0.980                     0.959                 0.968
    1-2        0.953    0.993       0.998                     0.987                 0.993
    1-0        0.781    0.975       0.985                     0.994                 0.969
    0-1        0.777    0.973       0.985                     0.994                 0.957
    all        0.585    0.953       0.949                     0.929                 0.936

("previous" is :data:`PREVIOUS_CONFIG`, the defaults before issue #8.) The
worst scenario rises 0.949 → 0.953, so every scenario now meets 0.95, but
every other scenario loses 0.005-0.016, unmodified documents included, and
the mean falls: a larger match cost makes skips relatively cheaper. The
gain is six beads of 800 and within the noise of one 50-document test half.

Recall of the edited beads in ``all`` (length → before → now): 2-1 55 → 94
→ 94, 1-2 59 → 97 → 98, 1-0 14 → 84 → 89, 0-1 23 → 88 → 92 of 100 each.

``--ablate`` switches each part off in turn, the rest unchanged (not
retuned); test-half F1 in ``all`` / 1-0 / 0-1 / 2-1: full 0.953 / 0.975 /
0.973 / 0.972; without ``exclude_candidate`` 0.939 / 0.950 / 0.941 /
0.961; without anchors 0.945 / 0.974 / 0.975 / 0.972; without
``skip_weight`` 0.951 / 0.972 / 0.967 / 0.972; with ``concat_weight=1``
(no mean in pair vectors) 0.954 / 0.982 / 0.981 / 0.965.

End to end (unit links, F1; length → embedding): none 0.811 → 0.842, 2-1
0.846 → 0.873, 1-2 0.834 → 0.861, 1-0 0.623 → 0.837, 0-1 0.629 → 0.837,
all 0.659 → 0.853 (match_cost 1.3: 0.847, 0.877, 0.866, 0.839, 0.841,
0.850). These are lower than the unit figures largely by
construction: of the first 1,000 lines, 84 Chinese and 107 English ones
(headlines, captions) have no final punctuation, so the splitters join
them to the following line; a bead over such a sentence links every unit
it touches to every unit on the other side, and those extra links count as
false even when the alignment is as good as the sentences allow.
"""

from __future__ import annotations

import argparse
import os
import pickle
import random
import sys
import time
from collections import Counter
from dataclasses import fields, replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from fit_length_ratio import Document, _join, _links, _units, make_document  # noqa: E402

from mtcheck.io.align import align, align_sentences, en_length, zh_length  # noqa: E402
from mtcheck.io.embalign import (  # noqa: E402
    DEFAULT_CONFIG,
    SRC_JOIN,
    TGT_JOIN,
    EmbeddingAlignConfig,
    align_embeddings,
)
from mtcheck.io.split import split_en, split_zh  # noqa: E402

TESTSET = Path("wmt_testsets_zhen/newstest2021/txt")
ZH_FILE = TESTSET / "sources/newstest2021.zh-en.src.zh"
REF_FILE = TESTSET / "references/newstest2021.zh-en.ref.A.en"
SYS_DIR = TESTSET / "system-outputs"

SCENARIOS: dict[str, tuple[str, ...]] = {
    "none": (),
    "2-1": ("merge_en", "merge_en"),
    "1-2": ("merge_zh", "merge_zh"),
    "1-0": ("drop_en", "drop_en"),
    "0-1": ("drop_zh", "drop_zh"),
    "all": ("merge_en", "merge_zh", "drop_en", "drop_zh"),
}


class CachingEncoder:
    """Wraps an encoder: each distinct text is embedded once, vectors kept in a pickle file."""

    def __init__(self, path: Path):
        self.path = path
        self.vectors: dict[str, object] = {}
        if path.is_file():
            with path.open("rb") as fh:
                self.vectors = pickle.load(fh)
        self._encoder = None
        self.embedded = 0

    def embed(self, texts):
        import numpy as np

        missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        if missing:
            if self._encoder is None:
                from mtcheck.models.registry import get_model

                self._encoder = get_model("encoder")
            self.vectors.update(zip(missing, self._encoder.embed(missing)))
            self.embedded += len(missing)
        if not len(texts):
            return np.zeros((0, 1), dtype=np.float32)
        return np.stack([self.vectors[t] for t in texts])

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            pickle.dump(self.vectors, fh)
        os.replace(tmp, self.path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=30, help="number of documents (default 30)")
    parser.add_argument("--doc-size", type=int, default=10)
    parser.add_argument("--systems", default="Online-B", help="comma-separated system names (default Online-B)")
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--tune", action="store_true", help="search the weights on the tuning half first")
    parser.add_argument("--pairs-mean", action="store_true", help="also evaluate pairs='mean'")
    parser.add_argument("--ablate", action="store_true",
                        help="also evaluate the config with each of its parts switched off, and the previous defaults")
    parser.add_argument("--tune-systems", default="",
                        help="comma-separated systems (or 'all': every other zh-en system) whose outputs for the "
                             "tuning-half documents join the tuning set; the test half is unchanged")
    parser.add_argument("--cache", type=Path, default=None)
    args = parser.parse_args()
    started = time.time()

    root = Path(os.environ.get("MTCHECK_SHARED_DATA", REPO.parent / "shared" / "mt-eval-zhen"))
    systems = [s for s in args.systems.split(",") if s]
    files = {"ref-A": root / REF_FILE, **{s: root / SYS_DIR / f"newstest2021.zh-en.hyp.{s}.en" for s in systems}}
    if not (root / ZH_FILE).is_file() or not all(p.is_file() for p in files.values()):
        print(f"skipping: newstest2021 zh-en source/reference/system outputs not found under {root} "
              "(set MTCHECK_SHARED_DATA)")
        return 0
    tune_files = _tune_system_files(root, args.tune_systems, exclude=set(systems))
    missing_tune = [name for name, path in tune_files.items() if not path.is_file()]
    if missing_tune:
        parser.error(f"--tune-systems: no output under {root / SYS_DIR} for {', '.join(missing_tune)}")
    from mtcheck.errors import ModelUnavailableError
    from mtcheck.models.registry import get_model, resolve

    try:
        get_model("encoder")
    except ModelUnavailableError as exc:
        print(f"skipping: {exc}")
        return 0
    model_name = resolve("encoder").name
    cache_path = args.cache or Path(f"/tmp/mtcheck-bench-alignment-{model_name}.pkl")
    encoder = CachingEncoder(cache_path)

    zh_lines = (root / ZH_FILE).read_text(encoding="utf-8").splitlines()
    sides = {name: path.read_text(encoding="utf-8").splitlines() for name, path in files.items()}
    size = args.doc_size
    n_docs = min(args.docs, len(zh_lines) // size)
    print(f"data: {root / TESTSET}; {n_docs} documents of {size} lines; English sides: {', '.join(sides)}; "
          f"seed {args.seed}; encoder {model_name}; cache {cache_path} ({len(encoder.vectors)} vectors)")
    tune_sides = {name: path.read_text(encoding="utf-8").splitlines() for name, path in tune_files.items()}
    if tune_sides:
        print(f"tuning half also takes {len(tune_sides)} more English sides: {', '.join(tune_sides)}")

    # docs[scenario][half] = list of Document
    docs: dict[str, dict[str, list[Document]]] = {}
    for scenario, edits in SCENARIOS.items():
        rng = random.Random(f"{args.seed}:{scenario}")
        docs[scenario] = {"tune": [], "test": []}
        for name, en_lines in sides.items():
            for d in range(n_docs):
                chunk = list(zip(zh_lines[d * size:(d + 1) * size], en_lines[d * size:(d + 1) * size]))
                doc = make_document(chunk, edits, rng)
                docs[scenario]["tune" if d % 2 == 0 else "test"].append(doc)
        # Extra tuning sides draw their edits from their own generators, after
        # the loop above, so that the test half (and the original tuning
        # documents) come out exactly as without --tune-systems.
        for name, en_lines in tune_sides.items():
            rng = random.Random(f"{args.seed}:{scenario}:tune:{name}")
            for d in range(0, n_docs, 2):
                chunk = list(zip(zh_lines[d * size:(d + 1) * size], en_lines[d * size:(d + 1) * size]))
                docs[scenario]["tune"].append(make_document(chunk, edits, rng))

    # Embed everything the runs below need in one call (length-sorted batches), in
    # chunks so that progress is saved.
    t0 = time.time()
    wanted: dict[str, None] = {}
    n_main_tune = (n_docs + 1) // 2 * len(sides)
    for scenario in docs:
        for half, half_docs in docs[scenario].items():
            for k, doc in enumerate(half_docs):
                wanted.update(dict.fromkeys(_texts_needed(doc.zh, doc.en)))
                # The extra tuning sides are only aligned unit by unit (tune()),
                # so their re-split sentences are not needed.
                if half == "test" or k < n_main_tune:
                    zs, es = _resplit(doc)
                    wanted.update(dict.fromkeys(_texts_needed([s.text for s in zs], [s.text for s in es])))
    missing = [t for t in wanted if t not in encoder.vectors]
    print(f"texts needed: {len(wanted)}, not cached: {len(missing)}", flush=True)
    for k in range(0, len(missing), 500):
        encoder.embed(missing[k:k + 500])
        encoder.save()
        print(f"  embedded {min(k + 500, len(missing))}/{len(missing)} in {time.time() - t0:.0f} s", flush=True)

    print(f"tuning half: {len(docs['none']['tune'])} document pairs per scenario", flush=True)
    config = DEFAULT_CONFIG
    if args.tune:
        t_tune = time.time()
        config = tune(docs, encoder, DEFAULT_CONFIG)
        print(f"tuned on the tuning half ({time.time() - t_tune:.0f} s): {_describe(config)}")
    print(f"embedding aligner config: {_describe(config)}")

    aligners = {
        "length": lambda doc: _length_align(doc.zh, doc.en),
        "embedding": lambda doc: align_embeddings(doc.zh, doc.en, encoder, config=config),
    }
    if config != DEFAULT_CONFIG:
        # The defaults on the same test documents, for before/after.
        aligners["embedding, defaults"] = lambda doc: align_embeddings(doc.zh, doc.en, encoder, config=DEFAULT_CONFIG)
    if args.pairs_mean:
        mean_cfg = replace(config, pairs="mean")
        aligners["embedding pairs=mean"] = lambda doc: align_embeddings(doc.zh, doc.en, encoder, config=mean_cfg)
    if args.ablate:
        variants = {
            "previous defaults": PREVIOUS_CONFIG,
            "- exclude_candidate": replace(config, exclude_candidate=False),
            "- anchors": replace(config, anchor_weight=0.0),
            "- skip_weight": replace(config, skip_weight=0.0),
            "- mean in pairs": replace(config, concat_weight=1.0),
        }
        for label, cfg in variants.items():
            aligners[label] = lambda doc, cfg=cfg: align_embeddings(doc.zh, doc.en, encoder, config=cfg)

    print("\n== unit evaluation, test half (bead precision / recall / F1; per-kind recall) ==")
    for scenario in SCENARIOS:
        test = docs[scenario]["test"]
        print(f"\n## scenario {scenario} ({len(test)} document pairs, "
              f"{sum(len(d.truth) for d in test)} true beads)")
        for name, fn in aligners.items():
            r = score_units(test, fn)
            print(f"   {name:22s} P {r['p']:.4f}  R {r['r']:.4f}  F1 {r['f1']:.4f}   {_kinds(r)}")

    print("\n== end to end, test half: one paragraph per side, split_zh/split_en, unit links P / R / F1 ==")
    e2e = {
        "length": lambda zs, es: align_sentences(zs, es),
        "embedding": lambda zs, es: align_embeddings(zs, es, encoder, config=config),
    }
    for scenario in SCENARIOS:
        test = docs[scenario]["test"]
        line = []
        for name, fn in e2e.items():
            p, r, f = score_end_to_end(test, fn)
            line.append(f"{name} P {p:.4f} R {r:.4f} F1 {f:.4f}")
        print(f"   {scenario:5s} " + "  |  ".join(line))
    if encoder.embedded:
        encoder.save()
    print(f"\ntotal time {time.time() - started:.0f} s")
    return 0


def _tune_system_files(root: Path, spec: str, exclude: set[str]) -> dict[str, Path]:
    """The system outputs named by ``--tune-systems`` (``all``: every zh-en system not in ``exclude``).

    Args:
        root: The shared data directory.
        spec: Comma-separated system names, ``"all"`` or ``""`` (none).
        exclude: Systems already evaluated (``--systems``): their tuning-half
            documents are in the tuning set anyway.

    Returns:
        System name -> output file, sorted by name.
    """
    prefix, suffix = "newstest2021.zh-en.hyp.", ".en"
    if spec.strip() == "all":
        names = sorted(p.name[len(prefix):-len(suffix)] for p in (root / SYS_DIR).glob(f"{prefix}*{suffix}"))
    else:
        names = sorted({s.strip() for s in spec.split(",") if s.strip()})
    return {name: root / SYS_DIR / f"{prefix}{name}{suffix}" for name in names if name not in exclude}


def _texts_needed(zh: list[str], en: list[str]) -> list[str]:
    """What align_embeddings embeds for these sentences (pairs joined as embalign joins them)."""
    return zh + en + [a + SRC_JOIN + b for a, b in zip(zh, zh[1:])] + [a + TGT_JOIN + b for a, b in zip(en, en[1:])]


def _resplit(doc: Document):
    zh_text, _ = _join(doc.zh, "")
    en_text, _ = _join(doc.en, " ")
    return split_zh(zh_text), split_en(en_text)


def _length_align(zh: list[str], en: list[str]):
    return align([zh_length(z) for z in zh], [en_length(e) for e in en])


def score_units(docs: list[Document], aligner) -> dict:
    tp = n_pred = n_true = 0
    kind_true: Counter[str] = Counter()
    kind_hit: Counter[str] = Counter()
    for doc in docs:
        predicted = {(b.src, b.tgt) for b in aligner(doc)}
        n_pred += len(predicted)
        n_true += len(doc.truth)
        for src, tgt in doc.truth:
            kind = f"{len(src)}-{len(tgt)}"
            kind_true[kind] += 1
            if (src, tgt) in predicted:
                kind_hit[kind] += 1
                tp += 1
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_true if n_true else 0.0
    return {"p": p, "r": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "kind_true": kind_true, "kind_hit": kind_hit}


def _kinds(r: dict) -> str:
    return ", ".join(f"{k} {r['kind_hit'][k]}/{r['kind_true'][k]}" for k in sorted(r["kind_true"]) if k != "1-1")


def score_end_to_end(docs: list[Document], aligner) -> tuple[float, float, float]:
    tp = n_pred = n_true = 0
    for doc in docs:
        _, zh_spans = _join(doc.zh, "")
        _, en_spans = _join(doc.en, " ")
        zs, es = _resplit(doc)
        zh_units = [_units(s.start, s.end, zh_spans) for s in zs]
        en_units = [_units(s.start, s.end, en_spans) for s in es]
        predicted: set = set()
        for bead in aligner(zs, es):
            predicted |= _links({u for k in bead.src for u in zh_units[k]}, {u for k in bead.tgt for u in en_units[k]})
        true: set = set()
        for src, tgt in doc.truth:
            true |= _links(set(src), set(tgt))
        tp += len(predicted & true)
        n_pred += len(predicted)
        n_true += len(true)
    p, r = tp / n_pred, tp / n_true
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


#: Values tried per weight by the coordinate search of :func:`tune`.
GRID: dict[str, tuple] = {
    "match_cost": (1.0, 1.1, 1.2, 1.3, 1.4, 1.5),
    "merge_cost": (0.4, 0.5, 0.55, 0.6, 0.65, 0.7),
    "skip_cost": (0.6, 0.65, 0.7, 0.75, 0.8),
    "anchor_weight": (0.0, 0.1, 0.15, 0.2, 0.25),
    "skip_weight": (0.0, 0.05, 0.1, 0.15, 0.2),
    "length_weight": (0.02, 0.03, 0.04, 0.05),
    "neighbours": (3, 4, 5, 6),
    "concat_weight": (0.5, 0.6, 0.75, 0.9, 1.0),
    "exclude_candidate": (True, False),
    "double_cost": (None, 0.6),
}

#: The embedding aligner's defaults before issue #8 (plain CSLS, no anchors,
#: flat skips, concatenations embedded alone), for comparison.
PREVIOUS_CONFIG = EmbeddingAlignConfig(
    match_cost=1.0, neighbours=3, exclude_candidate=False, length_weight=0.02, anchor_weight=0.0,
    skip_cost=0.6, skip_weight=0.0, merge_cost=0.6, concat_weight=1.0,
)


def tune(docs: dict[str, dict[str, list[Document]]], encoder: CachingEncoder,
         start: EmbeddingAlignConfig) -> EmbeddingAlignConfig:
    """Coordinate search of the weights in :data:`GRID` on the tuning half.

    The objective is the worst scenario's F1, ties broken by the mean over
    scenarios: the target is every scenario at 0.95 or better, and the
    mean alone happily trades the hardest scenario for easy ones.
    """
    def objective(cfg: EmbeddingAlignConfig) -> tuple[float, float]:
        scores = [score_units(docs[s]["tune"], lambda d: align_embeddings(d.zh, d.en, encoder, config=cfg))["f1"]
                  for s in SCENARIOS]
        # Rounded so that a difference in the fifth decimal of the minimum does
        # not outweigh the mean.
        return round(min(scores), 4), sum(scores) / len(scores)

    best, best_score = start, objective(start)
    print(f"tuning: start {_describe(start)} -> min F1 {best_score[0]:.4f}, mean {best_score[1]:.4f}")
    for _round in range(3):
        improved = False
        for name, values in GRID.items():
            for value in values:
                if getattr(best, name) == value:
                    continue
                cfg = replace(best, **{name: value})
                score = objective(cfg)
                if score > best_score:
                    best, best_score, improved = cfg, score, True
                    print(f"tuning: {name}={value} -> min F1 {score[0]:.4f}, mean {score[1]:.4f}")
        if not improved:
            break
    return best


def _describe(cfg: EmbeddingAlignConfig) -> str:
    keys = ("match_cost", "similarity_weight", "neighbours", "exclude_candidate", "length_weight", "anchor_weight",
            "skip_cost", "skip_weight", "merge_cost", "double_cost", "normalise", "pairs", "concat_weight")
    return ", ".join(f"{f.name}={getattr(cfg, f.name)}" for f in fields(cfg) if f.name in keys)


if __name__ == "__main__":
    sys.exit(main())
