#!/usr/bin/env python3
"""Calques beyond the lexicon: a detector from CC-CEDICT alone, measured like the calques check (experiment).

    python scripts/eval_open_calques.py [--examples 10] [--json out.json]

The ``calques`` check finds only the set phrases its lexicon lists. The
question here is whether the dictionary can find the others: Chinese words
whose meaning is not the sum of their characters, rendered character by
character. :func:`open_calques` flags a source word when

1. it is a CC-CEDICT headword of two or more Han characters with at least
   one *literal* gloss (one that renders its characters one by one, "hot
   blood" for 热血; :meth:`Lexicon.idiom_keys` draws the same line) and at
   least one *idiomatic* gloss none of whose words renders any of its
   characters ("endothermic") — so synonym compounds such as 宣布
   (宣 and 布 both "announce") are not candidates;
2. the MT has no word of its idiomatic glosses;
3. within a window of the word's length plus one MT content words, at
   least two *different* MT words render two *different* characters (as the
   characters' own dictionary senses), no other source word of the segment
   accounts for them, and one of them is a word of the literal gloss.

The measurement is the one ``scripts/eval_calques.py`` makes for the
lexicon check, on the same data: flags on every human translation of
newstest2021 and TED (counted as false flags, per 1,000 segments), and on
every rated MT output, the share of flags that touch a character a rater
marked, beside a span of the same length placed at random in the same MT.
It also counts how many flags fall on expressions outside the packaged
calque lexicon. Exits 0 with a message without the shared data.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from itertools import permutations
from pathlib import Path

import regex

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from mtcheck.errors import DataUnavailableError  # noqa: E402

_HAN_WORD = regex.compile(r"^\p{Han}{2,}$")


def _distinct_cover(hits, need: int) -> bool:
    """Whether ``need`` different hits render ``need`` different characters (a matching of that size)."""
    chars = sorted(set().union(*(h for _, h, _ in hits)))
    if len(chars) < need:
        return False
    for order in permutations(range(len(hits)), min(len(hits), len(chars))):
        if sum(1 for c, w in zip(chars, order) if c in hits[w][1]) >= need:
            return True
    return False


def open_calques(lexicon, source: str, mt: str, window_extra: int = 1) -> list[tuple[int, int, str, str]]:
    """Character-by-character renderings of non-compositional source words.

    Args:
        lexicon: A :class:`mtcheck.models.lexicon.Lexicon` (CC-CEDICT).
        source: The Chinese source.
        mt: Its English MT.
        window_extra: How many MT content words beyond the source word's
            length the rendering may spread over.

    Returns:
        ``(start, end, word, evidence)`` per flagged source word, offsets into ``mt``.
    """
    from mtcheck.models.lexicon import _gloss_keys, english_content_words, keys_match

    _, content = lexicon.content_words(source)
    mt_words = english_content_words(mt)
    gloss_keys = [lexicon.gloss_keys(w.text) for w in content]
    found = []
    for i, w in enumerate(content):
        word = w.text
        info = lexicon._get(word) if _HAN_WORD.match(word) else None
        if info is None:
            continue
        char_keys = [lexicon._char_keys(ch) for ch in word]
        if not all(char_keys):
            continue
        every_char_key = frozenset().union(*char_keys)
        literal, idiomatic = [], []
        for gloss in info.glosses:
            keys = frozenset(_gloss_keys(gloss))
            if keys:
                is_literal = gloss in info.marked_literal or lexicon._is_literal_gloss(word, keys)
                (literal if is_literal else idiomatic).append(keys)
        if not literal or not any(all(not any(keys_match(k, c) for c in every_char_key) for k in keys)
                                  for keys in idiomatic):
            continue
        idiom_keys = frozenset().union(*idiomatic)
        if any(keys_match(k, x) for _, k in mt_words for x in idiom_keys):
            continue
        literal_keys = frozenset().union(*literal)
        others = frozenset().union(*(gloss_keys[j] for j, o in enumerate(content)
                                     if j != i and o.text not in word and word not in o.text))
        hits = []
        for j, (_, key) in enumerate(mt_words):
            if any(keys_match(key, o) for o in others):
                continue
            chars = {c for c, keys in enumerate(char_keys) if any(keys_match(key, k) for k in keys)}
            if chars:
                hits.append((j, chars, any(keys_match(key, k) for k in literal_keys)))
        need = max(2, (len(word) + 1) // 2)
        best = None
        for a in range(len(hits)):
            for b in range(a + 1, len(hits)):
                if hits[b][0] - hits[a][0] > len(word) + window_extra:
                    break
                window = hits[a:b + 1]
                if any(h[2] for h in window) and _distinct_cover(window, need):
                    if best is None or b - a < best[1] - best[0]:
                        best = (a, b)
                    break
        if best is not None:
            start, end = mt_words[hits[best[0]][0]][0].start, mt_words[hits[best[1]][0]][0].end
            gloss = "; ".join(g for g in info.glosses[:3])
            found.append((start, end, word, f"character by character, {word} is "
                                             f"{lexicon.literal_gloss(word)}; the dictionary has: {gloss}"))
    return found


def run(root, n_examples: int) -> dict:
    from eval_calques import _random_span_hit_rate, datasets, human_translations

    from mtcheck.checks.calques import default_lexicon
    from mtcheck.metaeval.spans import error_char_rates
    from mtcheck.models.registry import get_model

    lexicon = get_model("lexicon")
    calque_expressions = set(default_lexicon().by_zh)
    report: dict = {}
    for name, ds, errors_path, rename, segmap in datasets(root):
        humans = human_translations(ds)
        t0 = time.time()
        false_flags, examples = 0, []
        for system, item, source, text in humans:
            for a, b, word, _ in open_calques(lexicon, source, text):
                false_flags += 1
                if len(examples) < n_examples:
                    examples.append({"system": system, "item": item, "word": word, "flagged": text[a:b]})
        human_seconds = time.time() - t0
        mts = [it for it in ds.items if it.mt and it.source and not it.system.startswith("ref")]
        chosen = {(it.system, it.item): it.mt for it in mts}
        rates = error_char_rates(errors_path, chosen, rename=rename, segid_map=segmap)
        t0 = time.time()
        flags = hits = outside = 0
        baseline = 0.0
        by_word: dict[str, list[int]] = {}
        mt_examples = []
        for it in mts:
            r = rates.get((it.system, it.item))
            if r is None:
                continue
            for a, b, word, evidence in open_calques(lexicon, it.source, it.mt):
                flags += 1
                hit = max(r[a:b]) > 0
                hits += hit
                outside += word not in calque_expressions
                baseline += _random_span_hit_rate(r, b - a)
                by_word.setdefault(word, [0, 0])
                by_word[word][0] += 1
                by_word[word][1] += hit
                if len(mt_examples) < n_examples:
                    mt_examples.append({"word": word, "flagged": it.mt[a:b], "on_error": hit, "evidence": evidence})
        report[name] = {
            "human_segments": len(humans),
            "false_flags": false_flags,
            "false_flags_per_1000_segments": round(1000 * false_flags / len(humans), 1) if humans else None,
            "false_flag_examples": examples,
            "mt_segments_with_rates": sum(1 for it in mts if (it.system, it.item) in rates),
            "mt_flags": flags,
            "mt_flags_outside_calque_lexicon": outside,
            "precision": round(hits / flags, 3) if flags else None,
            "random_span_baseline": round(baseline / flags, 3) if flags else None,
            "by_word": {w: {"flags": n, "on_errors": h}
                        for w, (n, h) in sorted(by_word.items(), key=lambda kv: -kv[1][0])},
            "mt_examples": mt_examples,
            "seconds": {"human": round(human_seconds, 1), "mt": round(time.time() - t0, 1)},
        }
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="mt-eval-zhen directory (default: $MTCHECK_SHARED_DATA)")
    parser.add_argument("--examples", type=int, default=10)
    parser.add_argument("--json", type=Path, default=None, help="also write the full report here")
    args = parser.parse_args(argv)
    try:
        report = run(args.data, args.examples)
    except DataUnavailableError as exc:
        print(f"eval_open_calques: skipped: {exc}")
        return 0
    for name, r in report.items():
        print(f"== {name}")
        print(f"human translations: {r['human_segments']} segments, {r['false_flags']} flags = "
              f"{r['false_flags_per_1000_segments']} false flags per 1,000 segments")
        for ex in r["false_flag_examples"]:
            print(f"   {ex['system']}:{ex['item']}  {ex['word']} {ex['flagged']!r}")
        print(f"MT: {r['mt_segments_with_rates']} segments with rater spans; {r['mt_flags']} flags, "
              f"{r['mt_flags_outside_calque_lexicon']} on words outside the calque lexicon; on a rater-marked "
              f"error: {r['precision']} (random span of the same length: {r['random_span_baseline']})")
        print("   " + ", ".join(f"{w} {c['on_errors']}/{c['flags']}" for w, c in list(r["by_word"].items())[:15]))
        for ex in r["mt_examples"]:
            print(f"   {ex['word']} {ex['flagged']!r} on_error={ex['on_error']}  [{ex['evidence']}]")
        print(f"time: {r['seconds']}")
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
