"""Tests of reading .txt, .md and .docx documents into plain text with paragraph boundaries.

Expected texts and positions are worked out by hand from the inputs below
(line and column of the character in the file, 1-based).
"""

from __future__ import annotations

import pytest

from mtcheck.errors import EncodingError, InputError, UsageError
from mtcheck.io.docpair import read_docpair
from mtcheck.io.documents import detect_document_format, markdown_to_text, read_document
from mtcheck.io.split import split_en, split_zh

docx = pytest.importorskip("docx", reason="python-docx is not installed")


# --- format detection -----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("a.md", "markdown"), ("a.MARKDOWN", "markdown"), ("报告.docx", "docx"), ("a.DOCX", "docx"),
     ("a.txt", "text"), ("a.zh", "text"), ("a", "text"), ("a.doc", "text")],
)
def test_detect_document_format(name, fmt):
    assert detect_document_format(name) == fmt


# --- plain text -----------------------------------------------------------------


def test_text_is_read_verbatim_with_line_positions(write):
    path = write("doc.zh", "第一段。\r\n\r\n第二段：𠀀字。\n")
    doc = read_document(path)
    assert doc.format == "text" and doc.verbatim
    assert doc.text == "第一段。\n\n第二段：𠀀字。"
    k = doc.text.index("𠀀")
    assert doc.position(0) == (1, 1)
    assert doc.position(k) == (3, 5)


def test_text_encoding_errors_are_reported(write):
    path = write("bad.zh", "好".encode("utf-8") + b"\xff\n")
    with pytest.raises(EncodingError):
        read_document(path)


def test_position_outside_document_is_rejected(write):
    doc = read_document(write("d.txt", "abc\n"))
    with pytest.raises(UsageError):
        doc.position(10)


def test_unknown_format_is_rejected(write):
    with pytest.raises(UsageError, match="unknown document format"):
        read_document(write("d.txt", "abc"), fmt="pdf")


# --- markdown -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        # headings are paragraphs of their own; the closing # run goes too
        (["# 年度报告 #", "正文。"], "年度报告\n正文。"),
        (["## Results", "Revenue grew."], "Results\nRevenue grew."),
        # hard-wrapped Chinese joins without a space, English with one
        (["公司今日发布了", "年度报告。"], "公司今日发布了年度报告。"),
        (["The company released", "its report."], "The company released its report."),
        (["收入增长１２％，", "Revenue rose."], "收入增长１２％，Revenue rose."),
        # blank lines separate paragraphs
        (["第一段。", "", "第二段。"], "第一段。\n第二段。"),
        # list items (bullets, numbers, task boxes) are paragraphs
        (["- 第一项", "* second", "+ third", "1. 第四项", "2) fifth", "- [x] done"],
         "第一项\nsecond\nthird\n第四项\nfifth\ndone"),
        # emphasis, strikethrough, code spans, links, images, autolinks, HTML, escapes
        (["这**非常**重要，*真的*。"], "这非常重要，真的。"),
        (["__bold__ and _it_ and ~~gone~~"], "bold and it and gone"),
        (["keep snake_case_name and 2 * 3 = 6"], "keep snake_case_name and 2 * 3 = 6"),
        (["run `a*b*c` now"], "run a*b*c now"),
        (["见[公告](https://example.com/a)和![图表](c.png)。"], "见公告和图表。"),
        (["see [the report][1] or <https://example.com/x>"], "see the report or https://example.com/x"),
        (["line<br>break <span class=\"x\">text</span>"], "linebreak text"),
        (["price \\*not emphasis\\*"], "price *not emphasis*"),
        # blockquotes
        (["> 引用文字", "> 继续。"], "引用文字继续。"),
        # code fences, thematic breaks and setext underlines vanish
        (["前文。", "```python", "x = 1", "```", "后文。"], "前文。\n后文。"),
        (["上。", "---", "下。"], "上。\n下。"),
        (["Title", "=====", "Body."], "Title\nBody."),
        # tables: every cell a paragraph, the delimiter row dropped
        (["| 项目 | 金额 |", "|---|:--:|", "| 收入 | 35亿元 |"], "项目\n金额\n收入\n35亿元"),
        # CJK Extension B survives
        (["**𠀀**字"], "𠀀字"),
    ],
)
def test_markdown_markup_is_removed(lines, expected):
    assert markdown_to_text(lines).text == expected


def test_markdown_positions_point_into_the_file():
    lines = ["# 标题", "", "公司**今日**发布了", "年度报告。This is *it*."]
    doc = markdown_to_text(lines, path="r.md")
    text = doc.text
    assert text == "标题\n公司今日发布了年度报告。This is it."
    assert not doc.verbatim
    assert doc.position(0) == (1, 3)                    # 标 after "# "
    assert doc.position(text.index("今")) == (3, 5)     # after "公司**"
    assert doc.position(text.index("年")) == (4, 1)
    assert doc.position(text.index("it.")) == (4, 15)   # after "*" at column 14
    assert doc.position(len(text)) == (4, len(lines[3]) + 1)


def test_markdown_sentences_do_not_span_list_items():
    doc = markdown_to_text(["- 第一项没有句号", "- 第二项。"])
    assert [s.text for s in split_zh(doc.text)] == ["第一项没有句号", "第二项。"]


def test_markdown_file_reading(write):
    path = write("doc.md", "# Report\n\nRevenue *grew*.\n")
    doc = read_document(path)
    assert doc.format == "markdown" and doc.text == "Report\nRevenue grew."


# --- docx -----------------------------------------------------------------------


def _make_docx(path, paragraphs, table=None):
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        t = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                t.cell(r, c).text = value
    document.save(str(path))
    return path


def test_docx_paragraphs_and_positions(tmp_path):
    paragraphs = ["年度报告", "", "公司收入增长１２％。净利润为𠀀万元。", "Last one."]
    path = _make_docx(tmp_path / "doc.docx", paragraphs)
    doc = read_document(path)
    assert doc.format == "docx" and not doc.verbatim
    assert doc.text == "年度报告\n公司收入增长１２％。净利润为𠀀万元。\nLast one."
    # positions are (paragraph number, column); the empty paragraph 2 still counts
    assert doc.position(0) == (1, 1)
    assert doc.position(doc.text.index("净")) == (3, 11)
    assert doc.position(doc.text.index("Last")) == (4, 1)
    assert [s.paragraph for s in split_zh(doc.text)] == [0, 1, 1, 2]


def test_docx_tables_and_line_breaks(tmp_path):
    document = docx.Document()
    p = document.add_paragraph("第一行")
    p.add_run().add_break()
    p.add_run("第二行")
    t = document.add_table(rows=2, cols=2)
    for (r, c), value in {(0, 0): "项目", (0, 1): "金额", (1, 0): "收入", (1, 1): "35亿元"}.items():
        t.cell(r, c).text = value
    document.add_paragraph("表后。")
    path = tmp_path / "t.docx"
    document.save(str(path))
    doc = read_document(path)
    assert doc.text == "第一行\n第二行\n项目\n金额\n收入\n35亿元\n表后。"
    assert doc.position(doc.text.index("第二行")) == (1, 5)  # after "第一行" and the break
    assert doc.position(doc.text.index("表后")) == (6, 1)    # 1 paragraph + 4 cells before it


def test_docx_merged_cell_is_read_once(tmp_path):
    document = docx.Document()
    t = document.add_table(rows=1, cols=3)
    merged = t.cell(0, 0).merge(t.cell(0, 1))
    merged.text = "合并单元格"
    t.cell(0, 2).text = "右"
    path = tmp_path / "m.docx"
    document.save(str(path))
    assert read_document(path).text == "合并单元格\n右"


def test_invalid_docx_is_an_input_error(write):
    path = write("fake.docx", "this is not a zip file")
    with pytest.raises(InputError, match="not a valid .docx"):
        read_document(path)


def test_missing_docx_is_an_input_error(tmp_path):
    with pytest.raises(InputError):
        read_document(tmp_path / "missing.docx")


# --- document pairs from .md / .docx ------------------------------------------------


def test_docpair_reads_docx_source_and_markdown_mt(tmp_path, write):
    src = _make_docx(tmp_path / "report.docx", ["公司今日发布年报。", "收入增长了百分之十二。"])
    mt = write("report.md", "# Annual report\n\nThe company released its annual report today.\n"
                            "Revenue **grew** by 12%.\n")
    segments = list(read_docpair(src, mt, aligner="length"))
    assert [s.metadata["aligner"] for s in segments] == ["length"] * len(segments)
    sources = "".join(s.source for s in segments)
    assert sources == "公司今日发布年报。收入增长了百分之十二。"
    mts = [s.mt for s in segments if s.mt]
    assert "Revenue grew by 12%." in " ".join(mts)
    # the MT position of the revenue sentence: line 4, column 1 of report.md
    seg = next(s for s in segments if "Revenue" in s.mt)
    assert seg.origin.mt_pos.path == str(mt)
    assert seg.origin.mt_pos.line == 4 and seg.origin.mt_pos.column == 1
    assert seg.origin.mt_pos.escape == "opaque"


def test_docpair_text_positions_unchanged(write):
    src = write("d.zh", "阿里巴巴今天发布了财报。\n净利润为7800万元。\n")
    mt = write("d.en", "Alibaba released its results today.\nNet profit was 78 million yuan.\n")
    segments = list(read_docpair(src, mt))
    assert [(s.origin.mt_pos.line, s.origin.mt_pos.column, s.origin.mt_pos.escape) for s in segments] == [
        (1, 1, "none"), (2, 1, "none")]
    assert [(s.origin.source_pos.line, s.origin.source_pos.column) for s in segments] == [(1, 1), (2, 1)]


def test_docpair_rejects_unknown_aligner(write):
    src = write("d.zh", "你好。\n")
    mt = write("d.en", "Hello.\n")
    with pytest.raises(UsageError, match="unknown aligner"):
        list(read_docpair(src, mt, aligner="fast"))


class _IdentityEncoder:
    """Fake encoder: sentences about the same number (digits) are similar."""

    def embed(self, texts):
        import numpy as np

        out = np.zeros((len(texts), 11))
        for row, text in enumerate(texts):
            for ch in text:
                if ch.isdigit():
                    out[row, int(ch)] += 1
            out[row, 10] = 1.0
            out[row] /= np.linalg.norm(out[row])
        return out


def test_docpair_embedding_aligner_with_given_encoder(write):
    src = write("d.zh", "第1条。第2条。第3条。\n")
    mt = write("d.en", "Item 1. Item 3.\n")
    segments = list(read_docpair(src, mt, aligner="embedding", encoder=_IdentityEncoder()))
    assert [s.metadata["aligner"] for s in segments] == ["embedding"] * 3
    assert [(s.source, s.mt) for s in segments] == [
        ("第1条。", "Item 1."), ("第2条。", ""), ("第3条。", "Item 3.")]


def test_docpair_auto_falls_back_to_length_without_encoder(write, monkeypatch):
    from mtcheck.errors import ModelUnavailableError
    from mtcheck.models import registry

    def unavailable(role):
        raise ModelUnavailableError("no encoder here")

    monkeypatch.setattr(registry, "get_model", unavailable)
    src = write("d.zh", "你好。\n")
    mt = write("d.en", "Hello.\n")
    assert [s.metadata["aligner"] for s in read_docpair(src, mt, aligner="auto")] == ["length"]
    with pytest.raises(ModelUnavailableError):
        list(read_docpair(src, mt, aligner="embedding"))


def test_split_en_on_markdown_text_keeps_items_apart():
    doc = markdown_to_text(["1. First item", "2. Second item."])
    assert [s.text for s in split_en(doc.text)] == ["First item", "Second item."]
