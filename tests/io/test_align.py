"""Tests of the Gale–Church style sentence aligner.

The press-release sentences below were written for these tests; each
document's true alignment is known by construction (which English sentence
translates which Chinese one), not taken from the aligner's output.
"""

from __future__ import annotations

import math
from functools import lru_cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mtcheck.errors import ConfigError, UsageError
from mtcheck.io.align import (
    DEFAULT_PRIORS,
    ZH_EN_RATIO,
    ZH_EN_VARIANCE,
    Bead,
    align,
    align_sentences,
    cheapest_chain,
    en_length,
    zh_length,
)
from mtcheck.io.split import split_en, split_zh

# --- hand-built documents ----------------------------------------------------

# Annual report: a 1-2 split (sentence 1) and a 2-1 merge (sentences 2 and 3).
REPORT_ZH = (
    "华光科技股份有限公司今日发布2023年年度报告。"
    "报告期内，公司实现营业收入350.19亿元，同比增长12.5%，归属于上市公司股东的净利润为28.6亿元。"
    "公司研发投入持续加大。"
    "全年研发费用达到21.3亿元。"
    "董事长李明表示，公司将继续坚持创新驱动发展战略，加快推进数字化转型。"
    "公司董事会建议每10股派发现金红利3元（含税）。"
)
REPORT_EN = (
    "Huaguang Technology Co., Ltd. today released its 2023 annual report. "
    "During the reporting period, the company achieved operating revenue of RMB 35.019 billion, "
    "up 12.5% year on year. "
    "Net profit attributable to shareholders of the listed company was RMB 2.86 billion. "
    "The company continued to increase its R&D investment, with annual R&D expenses "
    "reaching RMB 2.13 billion. "
    "Chairman Li Ming said that the company will continue to adhere to its innovation-driven "
    "development strategy and accelerate its digital transformation. "
    "The board of directors proposed a cash dividend of RMB 3 (tax included) for every 10 shares."
)
REPORT_TRUTH = [((0,), (0,)), ((1,), (1, 2)), ((2, 3), (3,)), ((4,), (4,)), ((5,), (5,))]

# Product launch: sentence 2 is missing from the MT (1-0).
LAUNCH_ZH = (
    "2024年3月15日，星海集团在上海召开新产品发布会。\n"
    "本次发布会共推出三款面向工业客户的智能传感器产品。"
    "据介绍，新产品采用自主研发的芯片，测量精度较上一代产品提高了约百分之四十，同时功耗降低了一半以上。\n"
    "公司预计新产品将于今年第二季度实现量产。"
    "星海集团总经理王芳表示，公司将进一步拓展海外市场。"
)
LAUNCH_EN = (
    "On March 15, 2024, Xinghai Group held a new product launch in Shanghai.\n\n"
    "The launch introduced three smart sensor products for industrial customers. "
    "The company expects the new products to enter mass production in the second quarter of this year.\n"
    "Wang Fang, general manager of Xinghai Group, said that the company will further expand "
    "into overseas markets."
)
LAUNCH_TRUTH = [((0,), (0,)), ((1,), (1,)), ((2,), ()), ((3,), (2,)), ((4,), (3,))]

# Overseas business: the MT adds a sentence the source does not have (0-1).
OVERSEAS_ZH = (
    "2023年，公司海外业务收入占比首次超过三成。"
    "公司在东南亚新设立了两家子公司。"
    "未来三年，公司计划在欧洲建设研发中心。"
)
OVERSEAS_EN = (
    "In 2023, overseas business accounted for more than 30% of the company's revenue "
    "for the first time. "
    "The company set up two new subsidiaries in Southeast Asia. "
    "This expansion reflects a long-term strategy that management first presented to investors "
    "at the annual general meeting several years ago, and analysts have widely praised it. "
    "Over the next three years, the company plans to build an R&D center in Europe."
)
OVERSEAS_TRUTH = [((0,), (0,)), ((1,), (1,)), ((), (2,)), ((2,), (3,))]

# Plain 1-1 translation with sentences of very different lengths.
NOTICE_ZH = (
    "公告如下。"
    "经公司第五届董事会第十二次会议审议通过，公司拟使用不超过人民币5亿元的闲置自有资金购买安全性高、流动性好的理财产品。"
    "特此公告。"
    "𠀀𠀁科技有限公司董事会。\n"
    "二〇二四年四月一日。"
)
NOTICE_EN = (
    "The announcement is as follows. "
    "As approved at the twelfth meeting of the fifth board of directors, the company intends to use "
    "idle own funds of no more than RMB 500 million to buy wealth management products with high "
    "safety and good liquidity. "
    "Notice is hereby given. "
    "Board of Directors of 𠀀𠀁 Technology Co., Ltd.\n"
    "April 1, 2024."
)
NOTICE_TRUTH = [((k,), (k,)) for k in range(5)]


@pytest.mark.parametrize(
    "zh, en, n_zh, n_en, truth",
    [
        (REPORT_ZH, REPORT_EN, 6, 6, REPORT_TRUTH),
        (LAUNCH_ZH, LAUNCH_EN, 5, 4, LAUNCH_TRUTH),
        (OVERSEAS_ZH, OVERSEAS_EN, 3, 4, OVERSEAS_TRUTH),
        (NOTICE_ZH, NOTICE_EN, 5, 5, NOTICE_TRUTH),
    ],
    ids=["report-1-2-and-2-1", "launch-1-0", "overseas-0-1", "notice-1-1"],
)
def test_align_sentences_hand_built(zh: str, en: str, n_zh: int, n_en: int, truth) -> None:
    src, tgt = split_zh(zh), split_en(en)
    # The splitters must see the sentences the truth is written in.
    assert (len(src), len(tgt)) == (n_zh, n_en)
    beads = align_sentences(src, tgt)
    assert [(b.src, b.tgt) for b in beads] == truth


def test_kinds_of_hand_built_beads() -> None:
    beads = align_sentences(split_zh(LAUNCH_ZH), split_en(LAUNCH_EN))
    assert [b.kind for b in beads] == ["1-1", "1-1", "1-0", "1-1", "1-1"]
    beads = align_sentences(split_zh(OVERSEAS_ZH), split_en(OVERSEAS_EN))
    assert [b.kind for b in beads] == ["1-1", "1-1", "0-1", "1-1"]


# --- lengths -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", 0),
        ("董事会", 3),
        ("董事会。", 4),  # full-width punctuation counts like Han
        ("𠀀 𠀁。", 3),  # Extension B counts once; whitespace not at all
        ("营收350.19亿元", 4 + 1 + 5 * 0.25),  # 4 Han, the dot, 5 digits
        ("５Ｇ网络", 2 + 2 * 0.25),  # full-width letters and digits are not Han
        ("iPhone销量", 2 + 6 * 0.25),
    ],
)
def test_zh_length(text: str, expected: float) -> None:
    assert zh_length(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    "text, expected",
    [("", 0), ("Net profit rose.", 16), ("  Net profit rose.  ", 16), ("RMB 3 billion", 13)],
)
def test_en_length(text: str, expected: int) -> None:
    assert en_length(text) == expected


def test_fitted_constants_are_plausible() -> None:
    # English runs to roughly 3-5 characters per Chinese character.
    assert 3.0 < ZH_EN_RATIO < 5.0
    assert ZH_EN_VARIANCE > 0


# --- align on lengths --------------------------------------------------------

P11 = -math.log(0.89)


@pytest.mark.parametrize(
    "src, tgt, expected",
    [
        ([], [], []),
        ([10], [], [((0,), ())]),
        ([], [5, 6], [((), (0,)), ((), (1,))]),
        ([10, 20, 30], [20, 40, 60], [((0,), (0,)), ((1,), (1,)), ((2,), (2,))]),
        # 1-2: the first source sentence became two of 10 characters each
        ([10, 30], [10, 10, 60], [((0,), (0, 1)), ((1,), (2,))]),
        # 2-1
        ([10, 10, 30], [40, 60], [((0, 1), (0,)), ((2,), (1,))]),
        # 2-2: neither sentence matches alone, but the pair does
        ([10, 10], [5, 35], [((0, 1), (0, 1))]),
        # 1-0 in the middle: a long source sentence with no translation
        ([10, 50, 10], [20, 20], [((0,), (0,)), ((1,), ()), ((2,), (1,))]),
        # 0-1 in the middle
        ([10, 10], [20, 100, 20], [((0,), (0,)), ((), (1,)), ((1,), (2,))]),
    ],
)
def test_align_lengths(src, tgt, expected) -> None:
    beads = align(src, tgt, ratio=2.0, variance=1.0)
    assert [(b.src, b.tgt) for b in beads] == expected


# --- the shared dynamic programme -------------------------------------------

SKIPS = [(1, 0, 0.5, None), (0, 1, 0.5, None)]


@pytest.mark.parametrize(
    "n, m, kinds, expected, total",
    [
        # Only skips: 0.5 each; at every cell the tie goes to 1-0 (listed first),
        # so the chain ends with the source sentence.
        (1, 1, SKIPS, [((), (0,)), ((0,), ())], 1.0),
        # A 1-1 table: diagonal 0.1, off-diagonal 2.0 (> two skips): two 1-1 beads, 0.2.
        (2, 2, [(1, 1, 0.0, [[0.1, 2.0], [2.0, 0.1]])] + SKIPS, [((0,), (0,)), ((1,), (1,))], 0.2),
        # Constant plus table: 1-1 costs 0.4 + table. Pairing source 0 with target 1
        # (0.4 + 0.0) with a skip either side (0.5 + 0.4 + 0.5 = 1.4) beats the diagonal
        # (0.4 + 0.6 + 0.4 + 0.6 = 2.0) and source 1 with target 0 (0.5 + 1.3 + 0.5).
        (2, 2, [(1, 1, 0.4, [[0.6, 0.0], [0.9, 0.6]])] + SKIPS, [((), (0,)), ((0,), (1,)), ((1,), ())], 1.4),
        # A 2-1 kind given as a constant: 0.3 beats 1-1 (1.0) plus a skip (0.5).
        (2, 1, [(1, 1, 1.0, None), (2, 1, 0.3, None)] + SKIPS, [((0, 1), (0,))], 0.3),
    ],
)
def test_cheapest_chain_by_hand(n, m, kinds, expected, total) -> None:
    beads = cheapest_chain(n, m, kinds)
    assert [(b.src, b.tgt) for b in beads] == expected
    assert sum(b.cost for b in beads) == pytest.approx(total)


def test_cheapest_chain_needs_both_skips() -> None:
    with pytest.raises(UsageError):
        cheapest_chain(1, 1, [(1, 1, 0.0, [[0.1]]), (1, 0, 0.5, None)])


def test_cheapest_chain_band_keeps_a_near_diagonal_alignment() -> None:
    # 30 x 30, 1-1 cheap on the diagonal only: band 1 finds the full search's answer.
    n = 30
    table = [[0.1 if i == j else 3.0 for j in range(n)] for i in range(n)]
    kinds = [(1, 1, 0.0, table)] + SKIPS
    assert cheapest_chain(n, n, kinds, band=1) == cheapest_chain(n, n, kinds)
    assert [(b.src, b.tgt) for b in cheapest_chain(n, n, kinds, band=1)] == [((i,), (i,)) for i in range(n)]


def test_perfect_one_to_one_costs_only_the_prior() -> None:
    beads = align([10, 20], [20, 40], ratio=2.0, variance=1.0)
    # z = 0, so the length term is -log(erfc(0)) = 0.
    assert [b.cost for b in beads] == pytest.approx([P11, P11])


def test_gap_cost_is_the_prior_by_default() -> None:
    beads = align([7], [], ratio=2.0, variance=1.0)
    assert beads[0].cost == pytest.approx(-math.log(DEFAULT_PRIORS["1-0"]))


def test_gap_length_cost_adds_gale_church_term() -> None:
    # ls = 8, lt = 0, ratio 2, s² 1: m = 4, z = 16 / 2 = 8,
    # tail = erfc(8 / sqrt 2).
    beads = align([8], [], ratio=2.0, variance=1.0, gap_length_cost=True)
    expected = -math.log(DEFAULT_PRIORS["1-0"]) - math.log(math.erfc(8 / math.sqrt(2)))
    assert beads[0].cost == pytest.approx(expected)


@pytest.mark.parametrize("gap_length_cost, omission_found", [(False, True), (True, False)])
def test_gap_scoring_and_omissions(gap_length_cost: bool, omission_found: bool) -> None:
    # Lengths as on real news text (default ratio 4.216, s² 28.02): the
    # middle source sentence (40) has no translation. By hand:
    # - prior-only gap: 1-0 costs -log 0.00495 = 5.3;
    # - merging it into a 2-1 with its neighbour (70 vs 126): m = 49.9,
    #   z = (295.1 - 126) / sqrt(28.02 * 49.9) = 4.5, cost ~ 3.1 + 12 = 15;
    # - Gale-Church gap: z = 168.6 / sqrt(28.02 * 20) = 7.1, cost ~ 5.3 + 27.
    beads = align([30, 40, 30], [126, 126], gap_length_cost=gap_length_cost)
    assert ("1-0" in [b.kind for b in beads]) is omission_found
    if omission_found:
        assert [(b.src, b.tgt) for b in beads] == [((0,), (0,)), ((1,), ()), ((2,), (1,))]


def test_extreme_mismatch_stays_finite() -> None:
    # erfc underflows to 0 for z/sqrt2 beyond ~27; the cost must stay finite.
    beads = align([10000], [1], ratio=4.0, variance=1.0, gap_length_cost=True,
                  priors={"1-1": 0.9, "1-0": 1e-300, "0-1": 1e-300})
    assert all(math.isfinite(b.cost) for b in beads)


def test_priors_restrict_bead_kinds() -> None:
    priors = {"1-1": 0.98, "1-0": 0.01, "0-1": 0.01}
    beads = align([10, 10, 30], [40, 60], ratio=2.0, variance=1.0, priors=priors)
    assert {b.kind for b in beads} <= set(priors)


@pytest.mark.parametrize(
    "kind, src, tgt",
    [("1-1", (0,), (3,)), ("1-2", (0,), (1, 2)), ("2-1", (4, 5), (6,)), ("1-0", (2,), ()),
     ("0-1", (), (7,)), ("2-2", (0, 1), (0, 1))],
)
def test_bead_kind(kind: str, src, tgt) -> None:
    assert Bead(src, tgt, 0.0).kind == kind


@pytest.mark.parametrize(
    "kwargs",
    [
        {"ratio": 0.0},
        {"ratio": -1.0},
        {"ratio": float("nan")},
        {"variance": 0.0},
        {"variance": float("inf")},
        {"priors": {"1-1": 0.9, "1-0": 0.05}},  # no 0-1
        {"priors": {"1-1": 0.9, "1-0": 0.05, "0-1": 0.05, "one-two": 0.1}},
        {"priors": {"1-1": 0.9, "1-0": 0.05, "0-1": 0.05, "0-0": 0.1}},
        {"priors": {"1-1": 0.9, "1-0": 0.05, "0-1": 0.05, "5-1": 0.1}},
        {"priors": {"1-1": 0.0, "1-0": 0.05, "0-1": 0.05}},
        {"priors": {"1-1": 1.5, "1-0": 0.05, "0-1": 0.05}},
    ],
)
def test_invalid_parameters(kwargs) -> None:
    with pytest.raises(ConfigError):
        align([1, 2], [3], **kwargs)


@pytest.mark.parametrize("src", [[1, -1], [float("nan")], ["3"], [True]])
def test_invalid_lengths(src) -> None:
    with pytest.raises(UsageError):
        align(src, [3])


# --- invariants --------------------------------------------------------------

_lengths = st.lists(st.integers(min_value=0, max_value=300), max_size=12)


@settings(max_examples=200, deadline=None)
@given(src=_lengths, tgt=_lengths)
def test_every_index_covered_once_in_order(src: list[int], tgt: list[int]) -> None:
    beads = align(src, tgt)
    assert [i for b in beads for i in b.src] == list(range(len(src)))
    assert [j for b in beads for j in b.tgt] == list(range(len(tgt)))
    for b in beads:
        assert b.src or b.tgt
        assert b.kind in DEFAULT_PRIORS
        assert math.isfinite(b.cost) and b.cost >= 0


@settings(max_examples=100, deadline=None)
@given(
    src=st.lists(st.integers(min_value=0, max_value=60), max_size=5),
    tgt=st.lists(st.integers(min_value=0, max_value=120), max_size=5),
)
def test_alignment_is_optimal(src: list[int], tgt: list[int]) -> None:
    """Compare with an exhaustive search over all bead chains (small inputs)."""
    ratio, variance = 2.0, 4.0
    shapes = [(int(k[0]), int(k[2]), p) for k, p in DEFAULT_PRIORS.items()]

    def bead_cost(a: int, b: int, p: float, ls: float, lt: float) -> float:
        cost = -math.log(p)
        if a and b and (ls or lt):
            m = (ls + lt / ratio) / 2
            z = abs(lt - ratio * ls) / math.sqrt(variance * m)
            cost -= math.log(math.erfc(z / math.sqrt(2)))
        return cost

    @lru_cache(maxsize=None)
    def best(i: int, j: int) -> float:
        if i == len(src) and j == len(tgt):
            return 0.0
        options = []
        for a, b, p in shapes:
            if i + a <= len(src) and j + b <= len(tgt):
                ls, lt = sum(src[i : i + a]), sum(tgt[j : j + b])
                options.append(bead_cost(a, b, p, ls, lt) + best(i + a, j + b))
        return min(options)

    beads = align(src, tgt, ratio=ratio, variance=variance)
    assert sum(b.cost for b in beads) == pytest.approx(best(0, 0), abs=1e-9)
    for b in beads:
        a, c = len(b.src), len(b.tgt)
        ls = sum(src[k] for k in b.src)
        lt = sum(tgt[k] for k in b.tgt)
        assert b.cost == pytest.approx(bead_cost(a, c, DEFAULT_PRIORS[b.kind], ls, lt), abs=1e-9)
