"""Tests of the embedding sentence aligner.

Most tests use a fake encoder whose vectors are built from *concept* labels
written into the sentences (``"〔3〕…"`` / ``"[3] …"``): a sentence's vector
is the normalised sum of one axis per concept plus a component shared by all
sentences (real encoders give unrelated sentences a clearly positive
cosine too). A translation therefore has cosine 1 with its source, and the
right alignment of any document is known by construction. The real-model
test uses a press release written for it.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from mtcheck.errors import ConfigError, ModelUnavailableError, UsageError
from mtcheck.io.align import Bead, align_sentences
from mtcheck.io.embalign import EmbeddingAlignConfig, align_costs, align_embeddings, bead_costs
from mtcheck.io.split import split_en, split_zh

DIM = 96
_CONCEPT = regex.compile(r"[〔\[](\d+)[〕\]]")


class ConceptEncoder:
    """Fake encoder: vector = normalise(sum of concept axes / sqrt(count) + shared * axis 0)."""

    def __init__(self, shared: float = 1.5):
        self.shared = shared
        self.calls: list[list[str]] = []

    def embed(self, texts):
        self.calls.append(list(texts))
        out = np.zeros((len(texts), DIM))
        for row, text in enumerate(texts):
            concepts = [int(c) for c in _CONCEPT.findall(text)]
            for c in concepts:
                out[row, 1 + c] += 1 / math.sqrt(len(concepts))
            out[row, 0] = self.shared
            out[row] /= np.linalg.norm(out[row])
        return out


def zh(*concepts: int) -> str:
    return "".join(f"〔{c}〕公司发布了报告。" for c in concepts)


def en(*concepts: int) -> str:
    return " ".join(f"[{c}] The company released a report." for c in concepts)


# Fake cosines (shared component s = 1.5, so |v|² = 1 + s² = 3.25 for one concept):
# unrelated sentences s²/3.25 = 0.692; a sentence and a concatenation holding it
# (1/√2 + s²)/3.25 = 0.910; two concatenations sharing one concept of two each
# (1/2 + s²)/3.25 = 0.846; a translation 1.
UNRELATED = 2.25 / 3.25

# Similarity only (lengths are all alike here and must not decide anything),
# without the CSLS margin (r(X) = r(Y) = UNRELATED), and with costs fixed here
# rather than the tuned defaults, so that the expected beads can be checked by
# hand. Bead cost = 1 + 5 * (0.692 - cos) + kind cost, so a translation costs
# -0.54, an unrelated pair 1.0, a sentence against a concatenation holding it
# -0.09, concatenations sharing one concept of two 0.23; skip 0.45, merge +0.3,
# 2-2 +0.25. Hence a merge (-0.54 + 0.3) beats a partial 1-1 plus a skip
# (-0.09 + 0.45); a skip next to a translation (0.45 - 0.54) beats a partial
# merge (-0.09 + 0.3); two skips (0.9) beat an unrelated pair (1.0); an exact 2-2
# (-0.54 + 0.25) beats two partial 1-1 beads (-0.18); and a 2-2 over pairs
# sharing one concept (0.23 + 0.25) loses to skip + translation + skip (0.36).
# Anchors are off (the concept labels are digits), skips are flat and pair
# vectors are the concatenations' own, so that only the terms above count.
SIM_ONLY = EmbeddingAlignConfig(length_weight=0.0, normalise=False, typical_similarity=UNRELATED,
                                similarity_weight=5.0, match_cost=1.0, skip_cost=0.45, merge_cost=0.3,
                                double_cost=0.25, anchor_weight=0.0, skip_weight=0.0, concat_weight=1.0)


def pairs(beads: list[Bead]) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    return [(b.src, b.tgt) for b in beads]


# Source and target given as concept tuples per sentence; expected beads worked
# out from which concepts each sentence carries.
CASES = [
    pytest.param([(1,), (2,), (3,)], [(1,), (2,), (3,)],
                 [((0,), (0,)), ((1,), (1,)), ((2,), (2,))], id="all-1-1"),
    pytest.param([(1,), (2,), (3,), (4,)], [(1,), (2, 3), (4,)],
                 [((0,), (0,)), ((1, 2), (1,)), ((3,), (2,))], id="2-1-merge"),
    pytest.param([(1,), (2, 3), (4,)], [(1,), (2,), (3,), (4,)],
                 [((0,), (0,)), ((1,), (1, 2)), ((2,), (3,))], id="1-2-split"),
    pytest.param([(1,), (2,), (3,), (4,)], [(1,), (3,), (4,)],
                 [((0,), (0,)), ((1,), ()), ((2,), (1,)), ((3,), (2,))], id="omission"),
    pytest.param([(1,), (2,), (3,)], [(1,), (9,), (2,), (3,)],
                 [((0,), (0,)), ((), (1,)), ((1,), (2,)), ((2,), (3,))], id="addition"),
    pytest.param([(1,), (2,), (3,)], [(2,), (3,)],
                 [((0,), ()), ((1,), (0,)), ((2,), (1,))], id="omission-at-start"),
    pytest.param([(1,), (2,)], [(1,), (2,), (7,)],
                 [((0,), (0,)), ((1,), (1,)), ((), (2,))], id="addition-at-end"),
    # Sentence boundaries fall at different places: src "1 | 2 3", tgt "1 2 | 3".
    pytest.param([(1,), (2, 3), (4,)], [(1, 2), (3,), (4,)],
                 [((0, 1), (0, 1)), ((2,), (2,))], id="2-2-crossing"),
    pytest.param([(1,), (2,), (3,), (4,), (5,), (6,)], [(1,), (2, 3), (5,), (8,), (6,)],
                 [((0,), (0,)), ((1, 2), (1,)), ((3,), ()), ((4,), (2,)), ((), (3,)), ((5,), (4,))],
                 id="merge-omission-addition"),
]


@pytest.mark.parametrize(("src", "tgt", "expected"), CASES)
def test_fake_encoder_alignments(src, tgt, expected):
    beads = align_embeddings([zh(*s) for s in src], [en(*t) for t in tgt], ConceptEncoder(), config=SIM_ONLY)
    assert pairs(beads) == expected


@pytest.mark.parametrize(("src", "tgt", "expected"), [c for c in CASES if c.id != "2-2-crossing"])
def test_fake_encoder_alignments_with_mean_pairs(src, tgt, expected):
    # The fake vectors are additive, so averaging sentence vectors approximates a
    # pair's own vector and must find the same beads. Averages are closer to each
    # other than real concatenations (two means sharing one concept of two have
    # cosine 0.909, not 0.846), which would let a 2-2 bead undercut skips; so 2-2
    # beads are off here, as they are by default.
    config = replace(SIM_ONLY, pairs="mean", double_cost=None)
    beads = align_embeddings([zh(*s) for s in src], [en(*t) for t in tgt], ConceptEncoder(), config=config)
    assert pairs(beads) == expected


def test_sentence_objects_and_strings_give_the_same_beads():
    src_text = zh(1, 2, 3, 4)
    tgt_text = en(1) + " " + en(2, 3) + " " + en(4)
    src_sents, tgt_sents = split_zh(src_text), split_en(tgt_text)
    assert [len(src_sents), len(tgt_sents)] == [4, 4]  # en(2, 3) is two sentences
    by_sentence = align_embeddings(src_sents, tgt_sents, ConceptEncoder(), config=SIM_ONLY)
    by_string = align_embeddings([s.text for s in src_sents], [t.text for t in tgt_sents], ConceptEncoder(),
                                 config=SIM_ONLY)
    assert pairs(by_sentence) == pairs(by_string) == [((k,), (k,)) for k in range(4)]


def test_each_distinct_text_is_embedded_once_in_one_call():
    encoder = ConceptEncoder()
    src = [zh(1), zh(1), zh(2)]  # a repeated sentence
    tgt = [en(1), en(1), en(2)]
    align_embeddings(src, tgt, encoder)
    assert len(encoder.calls) == 1
    (texts,) = encoder.calls
    assert len(texts) == len(set(texts))
    # 2 distinct zh + 2 en singles, zh pairs "11","12", en pairs "1 1","1 2".
    assert len(texts) == 8


def test_mean_pairs_embeds_single_sentences_only():
    encoder = ConceptEncoder()
    align_embeddings([zh(1), zh(2), zh(3)], [en(1), en(2)], encoder, config=EmbeddingAlignConfig(pairs="mean"))
    assert sorted(encoder.calls[0]) == sorted([zh(1), zh(2), zh(3), en(1), en(2)])


@pytest.mark.parametrize(("n", "m"), [(0, 0), (2, 0), (0, 3)])
def test_empty_side_gives_only_gaps_without_encoding(n, m):
    encoder = ConceptEncoder()
    beads = align_embeddings([zh(k) for k in range(n)], [en(k) for k in range(m)], encoder)
    assert pairs(beads) == [((i,), ()) for i in range(n)] + [((), (j,)) for j in range(m)]
    assert encoder.calls == []


def test_cjk_extension_b_and_fullwidth_text_is_accepted():
    # 𠀀 (U+20000) and full-width digits must pass through lengths and joins.
    src = ["〔1〕𠀀𠀁公司收入增长１２％。", "〔2〕净利润为７８００万元！"]
    tgt = ["[1] Revenue grew by 12%.", "[2] Net profit was 78 million yuan!"]
    beads = align_embeddings(src, tgt, ConceptEncoder())
    assert pairs(beads) == [((0,), (0,)), ((1,), (1,))]


# --- align_costs on hand-made matrices ---------------------------------------


def test_align_costs_picks_cheapest_chain_by_hand():
    # n=2, m=2. Paths: 1-1,1-1 = 0.9 + 0.9 = 1.8; 2-2 = 1.5; skips = 4 * 0.5 = 2.0;
    # 2-1 + 0-1 = 0.2 + 0.5 = 0.7 (cheapest); 1-2 + 1-0 = 5 + 0.5 = 5.5.
    costs = {
        "1-1": np.array([[0.9, 3.0], [3.0, 0.9]]),
        "2-1": np.array([[0.2, 3.0]]),
        "1-2": np.array([[5.0], [5.0]]),
        "2-2": np.array([[1.5]]),
    }
    beads = align_costs(costs, skip_cost=0.5)
    assert pairs(beads) == [((0, 1), (0,)), ((), (1,))]
    assert [b.cost for b in beads] == pytest.approx([0.2, 0.5])


def test_align_costs_ties_go_to_one_to_one():
    # 1-1 twice (0.5 + 0.5) and 2-2 (1.0) cost the same: the plainer beads win.
    costs = {"1-1": np.array([[0.5, 9.0], [9.0, 0.5]]), "2-2": np.array([[1.0]])}
    assert pairs(align_costs(costs, skip_cost=9.0)) == [((0,), (0,)), ((1,), (1,))]


def test_align_costs_without_optional_kinds():
    costs = {"1-1": np.array([[0.1, 2.0, 2.0], [2.0, 2.0, 0.1]])}
    # Best: (0,0), skip tgt 1, (1,2): 0.1 + 0.4 + 0.1.
    assert pairs(align_costs(costs, skip_cost=0.4)) == [((0,), (0,)), ((), (1,)), ((1,), (2,))]


def test_bead_costs_shapes():
    src = [zh(1), zh(2), zh(3)]
    tgt = [en(1), en(2)]
    costs = bead_costs(src, tgt, ConceptEncoder(), config=SIM_ONLY)
    assert {k: v.shape for k, v in costs.items()} == {
        "1-1": (3, 2), "2-1": (2, 2), "1-2": (3, 1), "2-2": (2, 1), "1-0": (3,), "0-1": (2,)
    }
    # skip_weight 0: every skip costs skip_cost.
    assert costs["1-0"] == pytest.approx([0.45] * 3) and costs["0-1"] == pytest.approx([0.45] * 2)
    # A translation: 1 + 5 * (0.692 - 1); unrelated: 1 + 0.
    assert costs["1-1"][0, 0] == pytest.approx(1 + 5 * (UNRELATED - 1))
    assert costs["1-1"][0, 1] == pytest.approx(1.0)
    # 2-1 bead {1,2} vs {1}: cos (1/√2 + 2.25)/3.25, plus the merge cost.
    assert costs["2-1"][0, 0] == pytest.approx(1 + 5 * (UNRELATED - (1 / math.sqrt(2) + 2.25) / 3.25) + 0.3)
    assert "2-2" not in bead_costs(src, tgt, ConceptEncoder(), config=replace(SIM_ONLY, double_cost=None))


def test_csls_margin_by_hand():
    # Two sentences a side, neighbours (4) capped at 2: r = mean(1, 0.692) = 0.846
    # for every sentence; cost = 1 + 10 * (r - cos).
    cfg = EmbeddingAlignConfig(length_weight=0.0, match_cost=1.0, neighbours=4, exclude_candidate=False,
                               anchor_weight=0.0)
    costs = bead_costs([zh(1), zh(2)], [en(1), en(2)], ConceptEncoder(), config=cfg)
    r = (1 + UNRELATED) / 2
    assert costs["1-1"] == pytest.approx(np.array([[1 + 10 * (r - 1), 1 + 10 * (r - UNRELATED)],
                                                   [1 + 10 * (r - UNRELATED), 1 + 10 * (r - 1)]]))


def test_length_term_is_added():
    # Same texts, length weight 1: the 1-1 cost grows by exactly the Gale–Church term.
    from mtcheck.io.align import ZH_EN_RATIO, ZH_EN_VARIANCE, _match_cost, en_length, zh_length

    src, tgt = [zh(1)], [en(1)]
    base = bead_costs(src, tgt, ConceptEncoder(), config=SIM_ONLY)["1-1"][0, 0]
    with_len = bead_costs(src, tgt, ConceptEncoder(), config=replace(SIM_ONLY, length_weight=1.0))["1-1"][0, 0]
    expected = _match_cost(zh_length(src[0]), en_length(tgt[0]), ZH_EN_RATIO, ZH_EN_VARIANCE)
    assert expected > 0
    assert with_len - base == pytest.approx(expected)


def test_excluding_the_candidate_by_hand():
    # Two sentences a side (cosines: translation 1, unrelated 0.692). Leaving the candidate
    # out leaves one neighbour (k = min(4, 2 - 1)): for the bead (x0, y0) that is
    # cos(x0, y1) = 0.692 on both sides, so the margin is 0.692 - 1; for (x0, y1) it is
    # cos(x0, y0) = 1 on the source side and cos(y1, x1) = 1 on the target side, 1 - 0.692.
    cfg = EmbeddingAlignConfig(length_weight=0.0, match_cost=1.0, neighbours=4, exclude_candidate=True,
                               anchor_weight=0.0)
    costs = bead_costs([zh(1), zh(2)], [en(1), en(2)], ConceptEncoder(), config=cfg)
    good, bad = 1 + 10 * (UNRELATED - 1), 1 + 10 * (1 - UNRELATED)
    assert costs["1-1"] == pytest.approx(np.array([[good, bad], [bad, good]]))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 6), m=st.integers(2, 6), k=st.integers(1, 5), seed=st.integers(0, 2**32 - 1),
       ties=st.booleans())
def test_excluded_neighbourhood_matches_a_direct_count(n, m, k, seed, ties):
    from mtcheck.io.embalign import _mean_top_excluding

    rng = np.random.default_rng(seed)
    sims = rng.integers(0, 3, (n, m)).astype(float) if ties else rng.uniform(-1, 1, (n, m))
    got = _mean_top_excluding(sims, k, fallback=0.0)
    for a in range(n):
        for b in range(m):
            others = sorted((sims[a, c] for c in range(m) if c != b), reverse=True)[:k]
            assert got[a, b] == pytest.approx(sum(others) / len(others))


class ConstantEncoder:
    """Every text gets the same vector, so only length and anchors tell sentences apart."""

    def embed(self, texts):
        return np.tile(np.array([1.0, 0.0]), (len(texts), 1))


# anchor term = 1 - 2 * shared / all, worked out by hand from the anchors listed.
ANCHOR_CASES = [
    # numbers {2020, 3000} on both sides ("3,000" and "3000" are one number): 1 - 2 * 2/2
    pytest.param("2020年有3,000人参加。", "In 2020, 3000 people took part.", -1.0, id="numbers-agree"),
    # {2020} vs {2021}, and "NBA" found in the English: shared 1 of 2 numbers + 1 name = 3
    pytest.param("NBA在2020年复赛。", "The NBA resumed in 2021.", 1 - 2 * 1 / 3, id="name-shared-number-not"),
    # full-width digits and a time written two ways: {19, 54} both sides
    pytest.param("１９时５４分到达。", "Arrived at 19:54.", -1.0, id="fullwidth-and-time"),
    # no numbers, no Latin words on the Chinese side: no evidence
    pytest.param("他们到达了。", "They arrived at noon.", 0.0, id="no-anchors"),
    # {7} vs nothing: 1 - 0
    pytest.param("7人受伤。", "Several people were injured.", 1.0, id="number-missing"),
]


@pytest.mark.parametrize(("src", "tgt", "expected"), ANCHOR_CASES)
def test_anchor_term_by_hand(src, tgt, expected):
    base = replace(SIM_ONLY, normalise=True)
    without = bead_costs([src], [tgt], ConstantEncoder(), config=base)["1-1"][0, 0]
    with_anchors = bead_costs([src], [tgt], ConstantEncoder(), config=replace(base, anchor_weight=0.5))["1-1"][0, 0]
    assert with_anchors - without == pytest.approx(0.5 * expected)


def test_anchors_of_a_two_sentence_side_are_pooled():
    # 2-1 bead: the two Chinese sentences hold {3} and {25}; the English {3, 25}: 1 - 2 * 2/2.
    src, tgt = ["3人受伤。", "25日发生。"], ["Three people were hurt on the 3rd and 25th."]
    base = replace(SIM_ONLY, normalise=True)
    without = bead_costs(src, tgt, ConstantEncoder(), config=base)["2-1"][0, 0]
    with_anchors = bead_costs(src, tgt, ConstantEncoder(), config=replace(base, anchor_weight=1.0))["2-1"][0, 0]
    assert with_anchors - without == pytest.approx(-1.0)


def test_skip_cost_follows_the_best_pairing_by_hand():
    # src concepts (1), (2); tgt (1). 1-1 costs: translation 1 + 5 * (0.692 - 1), unrelated 1.
    # skip = max(0, 0.45 + 0.5 * (1 - best)): src 0 and tgt 0 have the translation as best,
    # 0.45 + 2.5 * (1 - 0.692); src 1 only the unrelated pair, 0.45.
    costs = bead_costs([zh(1), zh(2)], [en(1)], ConceptEncoder(), config=replace(SIM_ONLY, skip_weight=0.5))
    assert costs["1-0"] == pytest.approx([0.45 + 2.5 * (1 - UNRELATED), 0.45])
    assert costs["0-1"] == pytest.approx([0.45 + 2.5 * (1 - UNRELATED)])


@pytest.mark.parametrize(
    ("typical", "expected"),
    [
        # normalise off: the unrelated pair costs 0.2 + 5 * (typical - 0.692); skip = 0.1 + 5 * (0.2 - that).
        pytest.param(UNRELATED, 0.1, id="best-costs-match-cost"),
        pytest.param(0.6, 0.1 + 25 * (UNRELATED - 0.6), id="good-best-raises-skip"),
        pytest.param(0.9, 0.0, id="poor-best-clipped-at-zero"),  # 0.1 + 25 * (0.692 - 0.9) < 0
    ],
)
def test_skip_cost_tracks_the_best_pairing(typical, expected):
    cfg = replace(SIM_ONLY, match_cost=0.2, skip_cost=0.1, skip_weight=5.0, typical_similarity=typical)
    costs = bead_costs([zh(2)], [en(1)], ConceptEncoder(), config=cfg)
    assert costs["1-0"] == pytest.approx([expected]) and costs["0-1"] == pytest.approx([expected])


def test_per_sentence_skips_change_the_alignment():
    # Hand-made costs, n = 1, m = 1: pairing costs 1.0. Flat skips of 0.6 (1.2 for both)
    # keep the pair; per-sentence skips of 0.3 and 0.6 (0.9) split it. The two orders of
    # the skips cost the same; the tie goes to 1-0 as the last bead (listed before 0-1).
    c11 = np.array([[1.0]])
    assert pairs(align_costs({"1-1": c11}, skip_cost=0.6)) == [((0,), (0,))]
    split = align_costs({"1-1": c11, "1-0": np.array([0.3]), "0-1": np.array([0.6])}, skip_cost=0.6)
    assert pairs(split) == [((), (0,)), ((0,), ())]
    assert [b.cost for b in split] == pytest.approx([0.6, 0.3])


def test_concat_weight_zero_is_the_mean_of_the_sentences():
    src, tgt = [zh(1), zh(2), zh(3)], [en(1), en(2, 3)]
    base = replace(SIM_ONLY, normalise=True, double_cost=None)
    blended = bead_costs(src, tgt, ConceptEncoder(), config=replace(base, pairs="embed", concat_weight=0.0))
    mean = bead_costs(src, tgt, ConceptEncoder(), config=replace(base, pairs="mean"))
    for kind in ("1-1", "2-1", "1-2"):
        assert blended[kind] == pytest.approx(mean[kind])


# --- band ---------------------------------------------------------------------


def test_band_finds_the_same_alignment_on_a_near_diagonal_document():
    src = [zh(k) for k in range(40)]
    tgt_concepts = [(k,) for k in range(40) if k not in (7, 25)]
    tgt_concepts.insert(12, (90,))
    tgt = [en(*c) for c in tgt_concepts]
    full = align_embeddings(src, tgt, ConceptEncoder(), config=SIM_ONLY)
    banded = align_embeddings(src, tgt, ConceptEncoder(), config=replace(SIM_ONLY, band=4))
    assert pairs(full) == pairs(banded)
    assert ((7,), ()) in pairs(full) and ((25,), ()) in pairs(full) and ((), (12,)) in pairs(full)


# --- invariants ---------------------------------------------------------------


def _check_cover(beads: list[Bead], n: int, m: int) -> None:
    src = [i for b in beads for i in b.src]
    tgt = [j for b in beads for j in b.tgt]
    assert src == list(range(n))  # each exactly once, in order: monotonic
    assert tgt == list(range(m))
    for b in beads:
        assert 1 <= len(b.src) + len(b.tgt) <= 4 and len(b.src) <= 2 and len(b.tgt) <= 2
        assert list(b.src) == list(range(b.src[0], b.src[0] + len(b.src))) if b.src else True
        assert math.isfinite(b.cost)


@settings(max_examples=60, deadline=None)
@given(
    src=st.lists(st.lists(st.integers(0, 20), min_size=1, max_size=2), min_size=0, max_size=9),
    tgt=st.lists(st.lists(st.integers(0, 20), min_size=1, max_size=2), min_size=0, max_size=9),
    skip=st.floats(0.0, 3.0),
    merge=st.floats(0.0, 3.0),
    length_weight=st.floats(0.0, 1.0),
    normalise=st.booleans(),
    pair_mode=st.sampled_from(["embed", "mean"]),
    exclude=st.booleans(),
    skip_weight=st.floats(0.0, 2.0),
)
def test_every_sentence_is_covered_once_in_order(src, tgt, skip, merge, length_weight, normalise, pair_mode,
                                                 exclude, skip_weight):
    cfg = EmbeddingAlignConfig(skip_cost=skip, merge_cost=merge, length_weight=length_weight,
                               normalise=normalise, pairs=pair_mode, exclude_candidate=exclude,
                               skip_weight=skip_weight)
    beads = align_embeddings([zh(*s) for s in src], [en(*t) for t in tgt], ConceptEncoder(), config=cfg)
    _check_cover(beads, len(src), len(tgt))


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 12),
    m=st.integers(1, 12),
    seed=st.integers(0, 2**32 - 1),
    skip=st.floats(0.0, 2.0),
    band=st.one_of(st.none(), st.integers(1, 5)),
)
def test_align_costs_covers_everything_on_random_matrices(n, m, seed, skip, band):
    rng = np.random.default_rng(seed)
    costs = {"1-1": rng.uniform(0, 2, (n, m))}
    if n > 1:
        costs["2-1"] = rng.uniform(0, 2, (n - 1, m))
    if m > 1:
        costs["1-2"] = rng.uniform(0, 2, (n, m - 1))
    if n > 1 and m > 1:
        costs["2-2"] = rng.uniform(0, 2, (n - 1, m - 1))
    beads = align_costs(costs, skip_cost=skip, band=band)
    _check_cover(beads, n, m)
    if band is None:
        # The total equals the sum of the bead shares, and no single-bead change is cheaper:
        # compare with the all-skips chain, always a valid alignment.
        assert sum(b.cost for b in beads) <= (n + m) * skip + 1e-9


# --- validation ---------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"skip_cost": -0.1},
        {"merge_cost": float("nan")},
        {"double_cost": -1.0},
        {"length_weight": float("inf")},
        {"typical_similarity": 1.5},
        {"neighbours": 0},
        {"match_cost": -1.0},
        {"pairs": "sum"},
        {"band": 0},
        {"ratio": -4.0},
        {"anchor_weight": -1.0},
        {"skip_weight": float("nan")},
        {"concat_weight": 1.5},
    ],
)
def test_invalid_config_is_rejected(kwargs):
    with pytest.raises(ConfigError):
        EmbeddingAlignConfig(**kwargs)


class WrongShapeEncoder:
    def embed(self, texts):
        return np.zeros((len(texts) + 1, 4))


def test_encoder_returning_wrong_shape_is_a_usage_error():
    with pytest.raises(UsageError, match="one vector per text"):
        align_embeddings([zh(1)], [en(1)], WrongShapeEncoder())


# --- the real encoder -----------------------------------------------------------

# A press release written for this test. Truth (Chinese sentence index → English):
#   zh0 → en0 (1-1)
#   zh1 → en1 + en2 (1-2: a long sentence split in two)
#   zh2 + zh3 → en3 (2-1: two short sentences merged)
#   zh4 → nothing (omission: the dividend sentence is missing)
#   zh5 → en4 (1-1)
#   nothing → en5 (addition: a sentence the source does not have)
#   zh6 → en6 (1-1)
REAL_ZH = [
    "2024年4月8日，远航物流股份有限公司在深圳发布了2023年度业绩报告。",
    "报告期内，公司实现营业收入186.4亿元，同比增长9.7%，"
    "其中跨境物流业务收入首次突破50亿元，占总收入的比重提升至27%。",
    "公司新开通了三条国际航线。",
    "这些航线覆盖东南亚和中东地区。",
    "董事会建议向全体股东每10股派发现金红利2.5元。",
    "公司计划在2024年投资12亿元建设智能仓储中心。",
    "总经理陈静表示，公司将继续提升服务质量。",
]
REAL_EN = [
    "On April 8, 2024, Yuanhang Logistics Co., Ltd. released its 2023 annual results in Shenzhen.",
    "During the reporting period, the company achieved operating revenue of RMB 18.64 billion, up 9.7% year on year.",
    "Revenue from cross-border logistics exceeded RMB 5 billion for the first time, rising to 27% of the total.",
    "The company opened three new international routes covering Southeast Asia and the Middle East.",
    "The company plans to invest RMB 1.2 billion in 2024 to build an intelligent warehousing center.",
    "Analysts expect the logistics industry to recover strongly in the second half of the year.",
    "General manager Chen Jing said the company will continue to improve the quality of its services.",
]
REAL_TRUTH = [((0,), (0,)), ((1,), (1, 2)), ((2, 3), (3,)), ((4,), ()), ((5,), (4,)), ((), (5,)),
              ((6,), (6,))]


@pytest.fixture(scope="module")
def real_encoder():
    from mtcheck.models.registry import get_model

    try:
        return get_model("encoder")
    except ModelUnavailableError as exc:
        pytest.skip(str(exc))


@pytest.mark.slow
def test_real_encoder_aligns_split_merge_omission_and_addition(real_encoder):
    src = split_zh("".join(REAL_ZH))
    tgt = split_en(" ".join(REAL_EN))
    assert [s.text for s in src] == REAL_ZH and [t.text for t in tgt] == REAL_EN
    assert pairs(align_embeddings(src, tgt, real_encoder)) == REAL_TRUTH
    # The case is one the length aligner gets wrong.
    assert pairs(align_sentences(src, tgt)) != REAL_TRUTH
