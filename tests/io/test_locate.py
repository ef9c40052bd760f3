"""Span offsets map back to the exact line and column of the raw input file."""

import json

import pytest

from mtcheck.io import read_inputs
from mtcheck.io.locate import csv_field_starts, locate

MT = 'GMV hit "35.019 billion" yuan\tat 𠀀 Tmall'  # quotes, a tab and Extension B before the target
TARGET = "Tmall"


def raw_at(path, line, column, length):
    lines = path.read_text(encoding="utf-8").split("\n")
    return lines[line - 1][column - 1 : column - 1 + length]


def check(seg, path, needle):
    offset = seg.mt.index(needle)
    line, col = locate(seg.origin.mt_pos, seg.mt, offset)
    assert raw_at(path, line, col, len(needle)) == needle
    s_off = seg.source.index("天猫")
    line, col = locate(seg.origin.source_pos, seg.source, s_off)
    assert raw_at(path if seg.origin.source_pos.path == str(path) else type(path)(seg.origin.source_pos.path),
                  line, col, 2) == "天猫"


def test_tsv(write):
    path = write("b.tsv", "id\tsource\tmt\nx\t天猫成交额\tGMV at Tmall rose\n")
    (seg,) = read_inputs([path])
    check(seg, path, "Tmall")


@pytest.mark.parametrize("ensure_ascii", [False, True])
def test_jsonl_escapes(write, ensure_ascii):
    rec = {"id": "q\"1", "source": "“天猫”\n成交额", "mt": MT}
    first = json.dumps({"source": "一", "mt": "one"})
    path = write("b.jsonl", first + "\n" + json.dumps(rec, ensure_ascii=ensure_ascii) + "\n")
    seg = list(read_inputs([path]))[1]
    assert seg.origin.mt_pos.escape == ("json-ascii" if ensure_ascii else "json")
    offset = seg.mt.index(TARGET)
    line, col = locate(seg.origin.mt_pos, seg.mt, offset)
    assert line == 2 and raw_at(path, line, col, len(TARGET)) == TARGET
    if not ensure_ascii:
        s_off = seg.source.index("天猫")
        line, col = locate(seg.origin.source_pos, seg.source, s_off)
        assert raw_at(path, line, col, 2) == "天猫"


def test_csv_quoted_multiline(write):
    path = write("b.csv", 'id,source,mt\n1,"第一行\n天猫成交额","He said ""wow""\nand Tmall grew"\n')
    (seg,) = read_inputs([path])
    assert seg.origin.mt_pos.escape == "csv"
    check(seg, path, "Tmall")
    line, col = locate(seg.origin.mt_pos, seg.mt, seg.mt.index("wow"))
    assert raw_at(path, line, col, 3) == "wow"


def test_text_files(write):
    s = write("s.zh", "第一句。\n天猫成交额创新高。\n")
    t = write("t.en", "First.\nTmall GMV hit a record.\n")
    seg = list(read_inputs(source=s, mt=t))[1]
    check(seg, t, "GMV")


@pytest.mark.parametrize(
    "raw, expected",
    [("a,b,c", [(0, False), (2, False), (4, False)]),
     ('"a,b",c', [(1, True), (6, False)]),
     ('x,"say ""hi""",', [(0, False), (3, True), (15, False)]),
     ("", [(0, False)])],
)
def test_csv_field_starts(raw, expected):
    assert csv_field_starts(raw, ",") == expected
