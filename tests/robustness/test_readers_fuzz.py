"""Every reader on generated and random bytes: segments or an MtcheckError, nothing else.

The property tests replay a fixed set of examples (see ``fuzz_settings``);
the regression tests below each pin one bug the fuzz campaign found.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given

from mtcheck.errors import InputError, MtcheckError
from mtcheck.io import read_inputs
from mtcheck.io.readers import read_json, read_jsonl, read_table
from tests.robustness import targets as T

BYTE_FORMATS = [f for f in T.READER_FORMATS if f != "dataset"]


@pytest.mark.parametrize("fmt", BYTE_FORMATS)
def test_reader_never_raises_anything_but_mtcheck_error(fmt):
    target = T.reader_target(fmt)

    @T.fuzz_settings(60)
    @given(T.reader_input(fmt))
    def run(data):
        target(data)

    run()


def test_legacy_encoding_reader_on_arbitrary_bytes():
    target = T.reader_target("tsv", encoding="gb18030")

    @T.fuzz_settings(60)
    @given(T.reader_input("tsv"))
    def run(data):
        target(data)

    run()


def test_dataset_rows_of_any_shape_map_to_segments():
    @T.fuzz_settings(120)
    @given(T.record_strategy())
    def run(record):
        T.record_target(record)

    run()


@pytest.mark.slow
def test_corrupted_parquet_files():
    # datasets builds a loader per file (about a second each): a handful of examples only.
    @T.fuzz_settings(3)
    @given(T.parquet_strategy())
    def run(arg):
        T.parquet_target(arg)

    run()


# ---------------------------------------------------------------------------
# Regressions found by the campaign


@pytest.mark.parametrize(
    "line, reason",
    [
        ("[" * 100_000, "nested too deeply"),  # RecursionError escaped json.loads
        ('{"source": "a", "mt": "b", "n": ' + "1" * 5000 + "}", "4300 digits"),  # ValueError: int digit limit
    ],
)
def test_jsonl_line_beyond_json_limits_is_a_failed_segment(write, line, reason):
    path = write("b.jsonl", '{"source": "你好", "mt": "Hello"}\n' + line + "\n")
    segs = list(read_jsonl(path))
    assert [s.problem is None for s in segs] == [True, False]
    assert f"{path}:2" in segs[1].problem and reason in segs[1].problem


@pytest.mark.parametrize("text", ["[" * 100_000, '[{"source": "a", "mt": "b", "n": ' + "9" * 5000 + "}]"])
def test_json_beyond_limits_is_an_input_error(write, text):
    path = write("b.json", text)
    with pytest.raises(InputError, match="cannot read this JSON"):
        list(read_json(path))


def test_json_lone_surrogate_escape_fails_the_segment_with_the_reason(write):
    # json.loads turns "\ud800" into a string no writer can encode.
    path = write("b.jsonl", '{"source": "\\ud800你好", "mt": "ok", "note": "\\udfff"}\n{"source": "好", "mt": "good"}\n')
    first, second = read_jsonl(path)
    assert first.problem is not None and "lone surrogate" in first.problem and "source" in first.problem
    assert first.source == "\ufffd你好"
    assert T.encodable(json.dumps(first.to_dict(), ensure_ascii=False))
    assert second.problem is None


def test_deeply_nested_metadata_is_kept_as_json_text(write):
    nested = "[" * 60 + "]" * 60
    path = write("b.jsonl", '{"source": "你好", "mt": "Hi", "x": ' + nested + "}\n")
    (seg,) = read_jsonl(path)
    assert seg.problem is None
    assert seg.metadata == {"metadata_json": '{"x": ' + nested.replace("][", "], [") + "}"}


def test_non_string_source_of_unbounded_nesting_is_reported_not_crashed(write):
    path = write("b.jsonl", '{"source": ' + "[" * 900 + "]" * 900 + ', "mt": "x"}\n')
    (seg,) = read_jsonl(path)
    assert "'source' must be a string, got list" in seg.problem


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"source\tmt\na\rb\tc\n", [("a\rb", "c")]),  # stray CR in a TSV field is text (csv.Error before)
        (b"source\tmt\r\na\tb\r\n", [("a", "b")]),  # CRLF
    ],
)
def test_tsv_carriage_returns(write, content, expected):
    path = write("b.tsv", content)
    assert [(s.source, s.mt) for s in read_table(path)] == expected


def test_tsv_header_with_a_stray_cr_is_not_an_unhandled_csv_error(write):
    path = write("b.tsv", b"source\tm\rt\nx\ty\n")
    with pytest.raises(MtcheckError, match="missing column"):
        list(read_table(path))


def test_csv_record_with_a_bare_cr_becomes_a_failed_segment_and_the_rest_is_read(write):
    path = write("b.csv", b"source,mt\nok,fine\nbad\rfield,x\nlast,one\n")
    segs = list(read_table(path))
    assert [(s.source, s.mt, s.problem is None) for s in segs] == [
        ("ok", "fine", True), ("", "", False), ("last", "one", True)]
    assert "line break" in segs[1].problem and f"{path}:3" in segs[1].problem


def test_csv_header_parse_error_is_an_input_error(write):
    path = write("b.csv", b"sou\rrce,mt\n")
    with pytest.raises(InputError, match="malformed CSV header"):
        list(read_table(path))


@pytest.mark.parametrize("fmt, sep", [("csv", ","), ("tsv", "\t")])
def test_a_field_longer_than_csvs_default_limit_is_read(write, fmt, sep):
    long = "营" * 200_000  # csv refused fields over 131,072 characters
    path = write(f"b.{fmt}", f"source{sep}mt\n{long}{sep}x\n")
    (seg,) = read_table(path)
    assert seg.source == long and seg.problem is None


def test_missing_column_message_is_bounded(write):
    path = write("b.csv", '"' + "a" * 200_000 + '",mt\n')
    with pytest.raises(InputError) as info:
        list(read_table(path))
    assert len(str(info.value)) < 500 and "missing column(s) source" in str(info.value)


@pytest.mark.parametrize(
    "cp, expected",
    [
        ("FFFFFFFFFFFFFFFFFFFFFFFF", "你好"),  # OverflowError escaped chr()
        ("D800", "你好\ufffd"),  # half a surrogate pair: replaced, not passed on to the writers
        ("110000", "你好"),  # beyond Unicode: dropped, as other invalid values are
        ("1B", "你好\x1b"),  # what <cp> is for: a character XML cannot hold
    ],
)
def test_xliff2_cp_element_values(write, cp, expected):
    doc = T.l10n_doc("xliff", [("u1", "你好{cp}", "Hi")], variant=1).replace(b'<cp hex="1B"/>', f'<cp hex="{cp}"/>'.encode())
    (seg,) = read_inputs([write("a.xlf", doc)])
    assert seg.source == expected


def test_corrupt_parquet_page_is_an_input_error_not_an_oserror(write, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mtcheck.io.dataset import read_dataset

    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"source": ["你好" * 50] * 200, "mt": ["hi" * 50] * 200}), path, compression="snappy")
    raw = bytearray(path.read_bytes())
    # Keep the footer (so opening succeeds) and break the data page, which only reading reaches.
    raw[12:16] = b"\xff\xff\xff\xff"  # the first page header, just after the magic bytes
    path.write_bytes(bytes(raw))
    with pytest.raises(InputError) as info:
        list(read_dataset(path))
    assert str(path) in str(info.value) and "cannot read row 1" in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("charset", [b"\x00UTF-8", b"UTF-8\x00"])
def test_po_header_charset_translate_toolkit_cannot_look_up_is_an_input_error(write, charset):
    # codecs.lookup raised "ValueError: embedded null character" from inside translate-toolkit.
    path = write("m.po", b'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=' + charset
                 + b'\\n"\n\nmsgid "a"\nmsgstr "b"\n')
    with pytest.raises(InputError, match="malformed PO header"):
        list(read_inputs([path]))


def test_po_plural_entry_cut_off_before_its_msgstr_is_an_input_error(write):
    # Found by atheris: translate-toolkit raised AttributeError ('str' object has no attribute 'strings').
    path = write("m.po", b'# c\nmsgid "a"\nmsgid_plural "b"')
    with pytest.raises(InputError, match="malformed PO"):
        list(read_inputs([path]))
