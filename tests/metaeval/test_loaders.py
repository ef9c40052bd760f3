"""Tests of the WMT judgement loaders and of ``evaluate_files``, on small files written here.

The synthetic files copy only the *layout* of the shared data (columns,
separators, naming conventions); all texts and scores are invented.
"""

from __future__ import annotations

import gzip
import math
from collections import Counter
from pathlib import Path

import pytest

from mtcheck.errors import (
    DataUnavailableError,
    EmptyInputError,
    EncodingError,
    InputError,
    MissingColumnsError,
)
from mtcheck.metaeval import NoOverlapError, evaluate_files
from mtcheck.metaeval.loaders import (
    ENV_VAR,
    choose_text,
    load_da_wmt20,
    load_da_wmt21,
    load_mqm_newstest2020,
    load_mqm_newstest2021,
    load_mqm_ted,
    shared_data_dir,
)
from tests.conftest import SHARED, needs_shared

MQM_HEADER = "system\tdoc\tdoc_id\tseg_id\trater\tsource\ttarget\tcategory\tseverity\n"
SRC1 = "公司𠀀营收增长５％，达到１亿元。"  # full-width digits and punctuation, CJK Ext. B
SRC2 = "“数字化转型”是重点（见附件）。"


def mqm_row(system, seg, rater, source, target, category="No-error", severity="No-error", doc="corp.1", doc_id="1"):
    return "\t".join([system, doc, doc_id, str(seg), rater, source, target, category, severity]) + "\n"


def write_file(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if relative.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode("utf-8")))
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def news21(tmp_path):
    d = "google_mqm_zhen/"
    rows = [
        # SysA, local seg 1: two error rows, the span moves.
        mqm_row("hyp.SysA", 1, "rater1", SRC1, "Revenue <v>grew</v> 5%, reaching 100 million.", "Fluency/Grammar", "Minor"),
        mqm_row("hyp.SysA", 1, "rater1", SRC1, "Revenue grew <v>5%</v>, reaching 100 million.", "Accuracy/Mistranslation", "Major"),
        mqm_row("hyp.SysB", 1, "rater2", SRC1, "Company revenue rose 5% to 100 million."),
        mqm_row("ref.A", 1, "rater3", SRC1, "The company's revenue rose by 5% to 100 million yuan."),
        mqm_row("ref.B", 1, "rater3", SRC1, "Revenue increased 5 percent to 100m yuan."),
        # Local seg 2; an omission tags the source; SysA's rows differ by a space at the tag.
        mqm_row("hyp.SysA", 2, "rater1", "“数字化转型”是重点<v>（见附件）</v>。", "Digital transformation is the focus.",
                "Accuracy/Omission", "Major", doc="corp.2", doc_id="2"),
        mqm_row("hyp.SysA", 2, "rater1", SRC2, "<v>Digital</v>  transformation is the focus.",
                "Fluency/Grammar", "Minor", doc="corp.2", doc_id="2"),
        mqm_row("hyp.SysB", 2, "rater2", SRC2, "“Digital transformation” is key (see annex).", doc="corp.2", doc_id="2"),
        mqm_row("ref.A", 2, "rater3", SRC2, "\"Digital transformation\" is the priority (see the annex).", doc="corp.2", doc_id="2"),
        mqm_row("ref.B", 2, "rater3", SRC2, "The focus is digital transformation (see attachment).", doc="corp.2", doc_id="2"),
    ]
    write_file(tmp_path, d + "mqm_newstest2021_zhen.tsv", MQM_HEADER + "".join(rows))
    write_file(tmp_path, d + "mqm_newstest2021_zhen.segid_map.tsv",
               "local_seg_id\tglobal_seg_id\tmethod\n1\t10\tmade up\n2\t7\tmade up\n")
    # Score file: header with spaces, rows with a tab then a space, as in the shared files.
    scores = ["system mqm_avg_score seg_id"]
    for system, s10, s7 in [("SysA", "-6.000000", "-6.000000"), ("SysB", "0.000000", "-0.100000"),
                            ("ref-A", "0.000000", "0.000000"), ("ref-B", "-1.000000", "0.000000")]:
        scores += [f"{system}\tNone 3", f"{system}\t{s7} 7", f"{system}\t{s10} 10"]
    write_file(tmp_path, d + "mqm_newstest2021_zhen.avg_seg_scores.tsv", "\n".join(scores) + "\n")
    return tmp_path


def test_newstest2021_items(news21):
    ds = load_mqm_newstest2021(news21)
    assert ds.reference_system == "ref-A"
    assert ds.systems == ("SysA", "SysB", "ref-B")
    assert ds.item_ids == (7, 10)  # local ids 2, 1 mapped; unrated 3 absent
    by_key = {(it.system, it.item): it for it in ds.items}
    a10 = by_key[("SysA", 10)]
    assert a10.mt == "Revenue grew 5%, reaching 100 million."
    assert a10.source == SRC1
    assert a10.references == ("The company's revenue rose by 5% to 100 million yuan.",)
    assert a10.human == -6.0
    assert a10.doc == "corp.1"
    assert a10.metadata["raters"] == ("rater1",)
    # Seg 7: the tag-free source is the same in both rows; the target variant
    # with the doubled space is longer, so the single-space one is chosen.
    a7 = by_key[("SysA", 7)]
    assert a7.source == SRC2
    assert a7.mt == "Digital transformation is the focus."
    assert a7.metadata["target_variants"] == 2
    assert a7.metadata["text_uncertain"] is False
    assert by_key[("SysB", 7)].human == -0.1
    assert by_key[("ref-B", 10)].mt == "Revenue increased 5 percent to 100m yuan."
    assert ds.human_scores()[("SysB", 10)] == 0.0


def test_newstest2021_can_keep_the_reference_system(news21):
    ds = load_mqm_newstest2021(news21, include_reference_system=True)
    assert "ref-A" in ds.systems
    ref = [it for it in ds.items if it.system == "ref-A" and it.item == 10][0]
    assert ref.mt == ref.references[0]


def test_segid_missing_from_map_is_an_error(news21):
    path = news21 / "google_mqm_zhen/mqm_newstest2021_zhen.segid_map.tsv"
    path.write_text("local_seg_id\tglobal_seg_id\tmethod\n1\t10\tx\n", encoding="utf-8")
    with pytest.raises(InputError, match="seg_id 2"):
        load_mqm_newstest2021(news21)


@pytest.mark.parametrize(
    "relative, content, error, where",
    [
        ("mqm_newstest2021_zhen.tsv", MQM_HEADER + mqm_row("hyp.SysA", 1, "r", "源", "t") + "hyp.SysA\tdoc\t1\t1\tr\n",
         InputError, ":3"),
        ("mqm_newstest2021_zhen.tsv", MQM_HEADER + mqm_row("hyp.SysA", "一", "r", "源", "t"), InputError, ":2"),
        ("mqm_newstest2021_zhen.tsv", "system\tdoc\tseg_id\n", MissingColumnsError, ":1"),
        ("mqm_newstest2021_zhen.avg_seg_scores.tsv", "system mqm_avg_score seg_id\nSysA\tbad 10\n", InputError, ":2"),
        ("mqm_newstest2021_zhen.avg_seg_scores.tsv", "system mqm_avg_score seg_id\nSysA\t-1 10 x\n", InputError, ":2"),
        ("mqm_newstest2021_zhen.avg_seg_scores.tsv", "system score seg\n", MissingColumnsError, ":1"),
        ("mqm_newstest2021_zhen.avg_seg_scores.tsv",
         "system mqm_avg_score seg_id\nSysA\t-1 10\nSysA\t-2 10\n", InputError, ":3"),
    ],
)
def test_malformed_mqm_files(news21, relative, content, error, where):
    path = news21 / "google_mqm_zhen" / relative
    path.write_text(content, encoding="utf-8")
    with pytest.raises(error) as info:
        load_mqm_newstest2021(news21)
    assert f"{path}{where}" in str(info.value)


def test_invalid_utf8_names_line(news21):
    path = news21 / "google_mqm_zhen/mqm_newstest2021_zhen.tsv"
    # GB18030 bytes of a Chinese source; 0xCA 0xD5 is not a UTF-8 sequence.
    gbk = mqm_row("hyp.SysA", 1, "r", "公司收入", "t").encode("gb18030")
    assert b"\xca\xd5" in gbk
    path.write_bytes(MQM_HEADER.encode() + gbk)
    with pytest.raises(EncodingError, match=r":2: not valid UTF-8"):
        load_mqm_newstest2021(news21)


def test_ted_renames_reference_systems(tmp_path):
    d = "google_mqm_zhen/"
    rows = [
        mqm_row("SysA", 84, "rater1", "我们对宇宙的了解来自光。", "What we <v>knows</v> comes from light.",
                "Fluency/Grammar", "Minor", doc="talk.2"),
        mqm_row("ref", 84, "rater2", "我们对宇宙的了解来自光。", "What we know of the universe comes from light.", doc="talk.2"),
        mqm_row("refB", 84, "rater2", "我们对宇宙的了解来自光。", "Our knowledge of the cosmos comes from light.", doc="talk.2"),
    ]
    write_file(tmp_path, d + "mqm_ted_zhen.tsv", MQM_HEADER + "".join(rows))
    write_file(tmp_path, d + "mqm_ted_zhen.avg_seg_scores.tsv",
               "system mqm_avg_score seg_id\nSysA\t-1.000000 84\nSysA\tNone 85\n"
               "ref-A\t0.000000 84\nref-B\t-0.100000 84\nref-B\tNone 85\n")
    ds = load_mqm_ted(tmp_path)
    assert ds.systems == ("SysA", "ref-B")
    by = {it.system: it for it in ds.items}
    assert by["SysA"].mt == "What we knows comes from light."
    assert by["SysA"].references == ("What we know of the universe comes from light.",)
    assert by["ref-B"].human == -0.1
    assert by["ref-B"].mt == "Our knowledge of the cosmos comes from light."
    assert {it.item for it in ds.items} == {84}


def test_newstest2020_chooses_text_without_post_edit_fragments(tmp_path):
    d = "google_mqm_zhen/"
    src = "国企走进赣南老区。"
    rows = [
        # rater1 pasted a fragment; rater2's rows are clean.
        mqm_row("SysX.1", 1, "rater1", src, "State firms entered<v>State firms entered the old area.</v>", "Fluency/Grammar", "Minor"),
        mqm_row("SysX.1", 1, "rater1", src, "State firms <v>entered</v>State firms entered the old area.", "Accuracy/Mistranslation", "Major"),
        mqm_row("SysX.1", 1, "rater2", src, "State firms entered the <v>old</v> area.", "Accuracy/Mistranslation", "Minor"),
        mqm_row("Human-A.0", 1, "rater2", src, "State-owned firms entered the old base area."),
        # Seg 2: the variants differ by a substitution, not an insertion.
        mqm_row("SysX.1", 2, "rater1", "二", "Alpha beta.", "Fluency/Grammar", "Minor"),
        mqm_row("SysX.1", 2, "rater2", "二", "Alpha gamma.", "Fluency/Grammar", "Minor"),
        mqm_row("Human-A.0", 2, "rater1", "二", "Alpha delta."),
    ]
    write_file(tmp_path, d + "mqm_newstest2020_zhen.tsv.gz", MQM_HEADER + "".join(rows))
    write_file(tmp_path, d + "mqm_newstest2020_zhen.avg_seg_scores.tsv",
               "system mqm_avg_score seg_id\nSysX.1 -3.500000 1\nSysX.1 -1.000000 2\n"
               "Human-A.0 0.000000 1\nHuman-A.0 0.000000 2\n")
    ds = load_mqm_newstest2020(tmp_path)
    by = {it.item: it for it in ds.items}
    assert ds.systems == ("SysX.1",)
    assert by[1].mt == "State firms entered the old area."
    assert by[1].metadata["text_uncertain"] is False
    assert by[1].metadata["raters"] == ("rater1", "rater2")
    assert by[1].references == ("State-owned firms entered the old base area.",)
    assert by[1].human == -3.5
    assert by[2].mt == "Alpha beta."
    assert by[2].metadata["text_uncertain"] is True


@pytest.mark.parametrize(
    "variants, expected, uncertain",
    [
        (["abc"], "abc", False),
        # A pasted fragment only adds text: the shortest is the original.
        (["Good textGood text.", "Good text."], "Good text.", False),
        # Equal length: the more frequent wins, then the first seen.
        (["ab c", "abc ", "abc "], "abc ", True),
        (["x y", "x z"], "x y", True),
        # Full-width and Ext. B characters count as one character each.
        (["营收𠀀增长５％", "营收𠀀增长５％。"], "营收𠀀增长５％", False),
    ],
)
def test_choose_text(variants, expected, uncertain):
    assert choose_text(Counter(variants)) == (expected, uncertain)


def test_da_wmt21_joins_texts(tmp_path):
    write_file(tmp_path, "wmt_da_zhen/wmt21/ad-seg-scores-zh-en.csv",
               "SYS SID RAW.SCR Z.SCR N \nSysA.3 2 71.5 -0.25 2 \nSysA.3 3 90 0.8 1 \nHUMAN.0 1 95 1.1 1 \n")
    txt = "wmt_testsets_zhen/newstest2021/txt/"
    write_file(tmp_path, txt + "sources/newstest2021.zh-en.src.zh", "第一句。\n第二句，含𠀀。\n第三句！\n")
    write_file(tmp_path, txt + "references/newstest2021.zh-en.ref.A.en", "First.\nSecond.\nThird!\n")
    write_file(tmp_path, txt + "system-outputs/newstest2021.zh-en.hyp.SysA.en", "One.\nTwo.\nThree!\n")
    ds = load_da_wmt21(tmp_path)
    by = {(it.system, it.item): it for it in ds.items}
    assert set(by) == {("SysA", 2), ("SysA", 3), ("HUMAN", 1)}
    assert by[("SysA", 2)].mt == "Two."
    assert by[("SysA", 2)].source == "第二句，含𠀀。"
    assert by[("SysA", 2)].references == ("Second.",)
    assert by[("SysA", 2)].human == -0.25
    assert by[("SysA", 2)].metadata == {"da_system": "SysA.3", "ratings": 2}
    assert by[("HUMAN", 1)].mt is None
    assert load_da_wmt21(tmp_path, score="raw").human_scores()[("SysA", 3)] == 90.0


def test_da_wmt20_scores_only(tmp_path):
    write_file(tmp_path, "wmt_da_zhen/wmt20/ad-seg-scores-zh-en.csv",
               "SYS SID RAW.SCR Z.SCR N \nSysX.381 2 80 0.4 1 \nSysX.381 1 60 -0.5 3 \n")
    write_file(tmp_path, "wmt_da_zhen/wmt20/newstest2020.zh-en.details.txt",
               "1\tnewstest2020\tzh-en\tdocA\t1\n2\tnewstest2020\tzh-en\tdocB\t1\n")
    ds = load_da_wmt20(tmp_path)
    assert [(it.item, it.doc, it.human, it.mt) for it in ds.items] == [(1, "docA", -0.5, None), (2, "docB", 0.4, None)]


def test_missing_data_names_the_path(tmp_path, monkeypatch):
    absent = tmp_path / "no-such-dir"
    monkeypatch.setenv(ENV_VAR, str(absent))
    with pytest.raises(DataUnavailableError, match="no-such-dir"):
        shared_data_dir()
    with pytest.raises(DataUnavailableError, match=ENV_VAR):
        load_mqm_ted()
    # An existing directory without the file names the file.
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert shared_data_dir() == tmp_path
    with pytest.raises(DataUnavailableError, match="mqm_ted_zhen.avg_seg_scores.tsv"):
        load_mqm_ted()


def test_default_location_is_beside_the_repository(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    repo = Path(__file__).resolve().parents[2]
    expected = repo.parent / "shared" / "mt-eval-zhen"
    if expected.is_dir():
        assert shared_data_dir() == expected
    else:
        with pytest.raises(DataUnavailableError, match=str(expected)):
            shared_data_dir()


# ---------------------------------------------------------------------------
# evaluate_files


def test_evaluate_files_one_report_per_metric_column(write):
    # 3 systems x 3 items; metric "good" equals the human scores, "bad" reverses them.
    human = "system\titem\tscore\n" + "".join(
        f"{s}\t{i}\t{v}\n" for s, vals in (("甲", (3, 2, 1)), ("乙", (2, 2, 0)), ("丙", (1, 0, 0))) for i, v in zip("abc", vals)
    )
    metric = "seg_id\tsystem\tdoc\tgood\tbad\n" + "".join(
        f"{i}\t{s}\td1\t{v}\t{-v}\n" for s, vals in (("甲", (3, 2, 1)), ("乙", (2, 2, 0)), ("丙", (1, 0, 0))) for i, v in zip("abc", vals)
    )
    reports = evaluate_files(write("human.tsv", human), write("metrics.tsv", metric))
    assert [r.metric for r in reports] == ["good", "bad"]
    assert reports[0].segment_kendall.value == pytest.approx(1.0)
    assert reports[1].segment_pearson.value == pytest.approx(-1.0)
    assert reports[0].n_cells == 9


def test_evaluate_files_score_column_named_after_file_and_missing_values(write):
    human = "system\titem\tscore\nA\t1\t0\nA\t2\t-5\nB\t1\t-1\nB\t2\tNone\nA\t3\t\n"
    metric = "system\titem\tscore\nA\t1\t0.9\nA\t2\t0.1\nB\t1\t0.5\nB\t2\t0.7\nA\t3\tNaN\n"
    [report] = evaluate_files(write("h.tsv", human), write("chrf-run.tsv", metric))
    assert report.metric == "chrf-run"
    # Cells with a score on both sides: A1, A2, B1.
    assert report.n_cells == 3
    # h (0, -5, -1), m (0.9, 0.1, 0.5): all three pairs concordant.
    assert report.segment_kendall.value == pytest.approx(1.0)


@pytest.mark.parametrize(
    "human, metric, error, fragment",
    [
        ("system\tscore\nA\t1\n", "system\titem\tm\nA\t1\t2\n", MissingColumnsError, "h.tsv:1: missing column(s): item (or seg_id)"),
        ("system\titem\tmqm\nA\t1\t1\n", "system\titem\tm\nA\t1\t2\n", MissingColumnsError, "h.tsv:1: missing column(s): score"),
        ("system\titem\tscore\nA\t1\t1\n", "system\titem\tdoc\nA\t1\td\n", MissingColumnsError, "metric score column"),
        ("system\titem\tscore\nA\t1\t1\nA\t2\tabc\n", "system\titem\tm\nA\t1\t2\n", InputError, "h.tsv:3: column 'score': 'abc'"),
        ("system\titem\tscore\nA\t1\t1\n", "system\titem\tm\nA\t1\t1，5\n", InputError, "m.tsv:2: column 'm': '1，5'"),
        ("system\titem\tscore\nA\t1\t1\n", "system\titem\tm\nA\t1\tinf\n", InputError, "m.tsv:2: column 'm': 'inf' is not a finite"),
        ("system\titem\tscore\nA\t1\n", "system\titem\tm\nA\t1\t2\n", InputError, "h.tsv:2: expected 3 tab-separated fields"),
        ("system\titem\tscore\nA\t1\t1\nA\t1\t2\n", "system\titem\tm\nA\t1\t2\n", InputError, "h.tsv:3: system 'A', item '1' appears twice"),
        ("", "system\titem\tm\nA\t1\t2\n", EmptyInputError, "h.tsv: file is empty"),
        ("system\titem\tscore\n", "system\titem\tm\nA\t1\t2\n", EmptyInputError, "h.tsv: no data rows"),
        ("system\titem\tscore\nA\t1\t1\n", "system\titem\tm\nA\t2\t2\nB\t1\t2\n", NoOverlapError, "no (system, item) pair"),
        ("system\titem\tscore\nA\t1\t1\n", "system\titem\tm\nA\t1\t\n", NoOverlapError, "'m' score in"),
    ],
)
def test_evaluate_files_errors(write, human, metric, error, fragment):
    with pytest.raises(error) as info:
        evaluate_files(write("h.tsv", human), write("m.tsv", metric))
    assert fragment in str(info.value)
    assert isinstance(info.value, InputError)


def test_evaluate_files_missing_file(tmp_path, write):
    with pytest.raises(InputError, match="file not found"):
        evaluate_files(tmp_path / "nope.tsv", write("m.tsv", "system\titem\tm\nA\t1\t2\n"))


# ---------------------------------------------------------------------------
# The real shared data (skipped without it)


@pytest.mark.shared_data
@needs_shared
def test_real_data_counts():
    hyps = ["Borderline", "DIDI-NLP", "Facebook-AI", "IIE-MT", "MiSS", "NiuTrans", "Online-W", "SMU"]
    hyps += [f"metricsystem{k}" for k in range(1, 6)]
    news = load_mqm_newstest2021(SHARED)
    assert news.systems == tuple(sorted(hyps + ["ref-B"]))
    assert len(news.item_ids) == 650
    assert len(news.items) == 14 * 650
    assert all(it.mt and it.references and it.source and it.human is not None for it in news.items)
    assert min(news.item_ids) >= 1 and max(news.item_ids) <= 1948

    ted = load_mqm_ted(SHARED)
    assert ted.systems == news.systems
    assert len(ted.item_ids) == 529
    assert all(it.mt and it.references for it in ted.items)

    n20 = load_mqm_newstest2020(SHARED)
    assert len(n20.systems) == 9 and "Human-B.0" in n20.systems and "Human-A.0" not in n20.systems
    assert len(n20.items) == 9 * 2000
    # Uncertain texts are the README's post-edit caveat: a small minority.
    uncertain = sum(it.metadata["text_uncertain"] for it in n20.items)
    assert 0 < uncertain < 0.05 * len(n20.items)

    da21 = load_da_wmt21(SHARED)
    assert len(da21.items) == 37671 and len(da21.systems) == 24
    assert all(it.mt is not None for it in da21.items if it.system != "HUMAN")
    da20 = load_da_wmt20(SHARED)
    assert len(da20.items) == 29248 and all(it.doc for it in da20.items)
    assert not any(math.isnan(it.human) for it in da20.items)
