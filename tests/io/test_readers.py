import json

import pytest

from mtcheck.errors import EmptyInputError, InputError, LineCountMismatchError, MissingColumnsError, UsageError
from mtcheck.io import detect_format, read_inputs

ZH = ["阿里巴巴今天发布了财报。", "成交额达到350.19亿元。", "𠀀字属于扩展B区。"]
EN = ["Alibaba released its results today.", "GMV reached 35.019 billion yuan.", "The character 𠀀 is in Extension B."]
REF = ["Alibaba published results today.", "Turnover hit 35.019 billion yuan.", "𠀀 is an Extension B character."]


def lines(xs):
    return "".join(x + "\n" for x in xs)


@pytest.mark.parametrize(
    "name, fmt",
    [("a.tsv", "tsv"), ("a.TSV", "tsv"), ("a.csv", "csv"), ("a.jsonl", "jsonl"), ("a.ndjson", "jsonl"),
     ("a.json", "json"), ("a.parquet", "dataset"), ("a.arrow", "dataset")],
)
def test_detect_format(name, fmt):
    assert detect_format(name) == fmt


@pytest.mark.parametrize("name", ["a.txt", "a", "a.xlsx", "a.tsv.gz"])
def test_detect_format_rejects(name):
    with pytest.raises(UsageError):
        detect_format(name)


def test_text_with_two_references(write):
    s, t = write("s.zh", lines(ZH)), write("t.en", lines(EN))
    r1, r2 = write("r1.en", lines(REF)), write("r2.en", lines(EN))
    segs = list(read_inputs(source=s, mt=t, refs=[r1, r2]))
    assert [x.id for x in segs] == ["1", "2", "3"]
    assert segs[2].source == ZH[2] and segs[2].mt == EN[2]
    assert segs[1].references == (REF[1], EN[1])
    assert segs[0].origin.line == 1


def test_text_line_count_mismatch_names_both(write):
    s, t = write("s.zh", lines(ZH)), write("t.en", lines(EN[:2]))
    with pytest.raises(LineCountMismatchError) as info:
        read_inputs(source=s, mt=t)
    msg = str(info.value)
    assert str(s) in msg and str(t) in msg and "3 lines" in msg and "has 2" in msg


def test_text_empty_source(write):
    with pytest.raises(EmptyInputError, match="empty"):
        read_inputs(source=write("s.zh", ""), mt=write("t.en", ""))


def test_text_blank_segments_are_kept(write):
    s, t = write("s.zh", "你好。\n   \n"), write("t.en", "Hello.\n\n")
    segs = list(read_inputs(source=s, mt=t))
    assert len(segs) == 2 and segs[1].source == "   " and segs[1].mt == ""


def test_tsv_columns_refs_metadata(write):
    path = write("b.tsv", "id\tdoc\tsource\tmt\tref\tref2\tclient\n"
                          f"x1\tD\t{ZH[0]}\t{EN[0]}\t{REF[0]}\t\tacme\n"
                          f"x2\tD\t{ZH[1]}\t{EN[1]}\t{REF[1]}\t{EN[1]}\tacme\n")
    segs = list(read_inputs([path]))
    assert [s.id for s in segs] == ["x1", "x2"]
    assert segs[0].references == (REF[0],)          # blank ref2 = no second reference
    assert segs[1].references == (REF[1], EN[1])
    assert segs[0].doc == "D" and segs[0].metadata == {"client": "acme"}
    assert segs[1].origin.line == 3


def test_tsv_quotes_are_text(write):
    path = write("q.tsv", 'source\tmt\n他说：“好。”\tHe said: "Fine."\n')
    (seg,) = read_inputs([path])
    assert seg.mt == 'He said: "Fine."'


def test_csv_multiline_quoted_field(write):
    path = write("b.csv", 'source,mt\n"第一行\n第二行","Line one, and\nline two"\n你好,Hello\n')
    segs = list(read_inputs([path]))
    assert segs[0].source == "第一行\n第二行" and segs[0].mt == "Line one, and\nline two"
    # physical lines: 1 header, 2-4 the quoted record (its fields span three lines), 5 the next record
    assert segs[0].origin.line == 2 and segs[1].origin.line == 5


def test_tsv_missing_columns_named(write):
    path = write("b.tsv", "src\ttranslation\nx\ty\n")
    with pytest.raises(MissingColumnsError) as info:
        list(read_inputs([path]))
    assert "source, mt" in str(info.value) and "'src'" in str(info.value)


def test_tsv_bad_row_reported_not_dropped(write):
    path = write("b.tsv", f"source\tmt\n{ZH[0]}\t{EN[0]}\nonly one field\n{ZH[1]}\t{EN[1]}\n")
    segs = list(read_inputs([path]))
    assert len(segs) == 3
    assert segs[1].problem and f"{path}:3" in segs[1].problem and "expected 2 fields" in segs[1].problem
    assert segs[0].problem is None and segs[2].problem is None


@pytest.mark.parametrize("content", ["", "source\tmt\n"])
def test_tsv_empty(write, content):
    with pytest.raises(EmptyInputError):
        list(read_inputs([write("e.tsv", content)]))


def test_jsonl(write):
    recs = [{"id": 7, "source": ZH[0], "mt": EN[0], "ref": REF[0], "doc": "d1", "domain": "finance"},
            {"source": ZH[1], "mt": EN[1], "refs": [REF[1], EN[1]]}]
    path = write("b.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in recs) + "\n\n")
    segs = list(read_inputs([path]))
    assert [s.id for s in segs] == ["7", "2"]
    assert segs[0].metadata == {"domain": "finance"} and segs[0].doc == "d1"
    assert segs[1].references == (REF[1], EN[1])


@pytest.mark.parametrize(
    "bad_line, fragment",
    [("{not json", "invalid JSON"), ("[1, 2]", "expected a JSON object"),
     ('{"source": "你好"}', "missing 'mt'"), ('{"source": "你好", "mt": 3}', "'mt' must be a string"),
     ('{"source": null, "mt": "x"}', "'source' is null")],
)
def test_jsonl_bad_record_is_failed_segment(write, bad_line, fragment):
    good = json.dumps({"source": ZH[0], "mt": EN[0]}, ensure_ascii=False)
    path = write("b.jsonl", f"{good}\n{bad_line}\n{good}\n")
    segs = list(read_inputs([path]))
    assert len(segs) == 3
    assert segs[1].problem is not None and fragment in segs[1].problem and f"{path}:2" in segs[1].problem
    assert segs[0].problem is None and segs[2].problem is None


def test_jsonl_first_record_missing_keys_is_an_error(write):
    path = write("b.jsonl", '{"src": "x", "hyp": "y"}\n')
    with pytest.raises(MissingColumnsError, match="source, mt"):
        list(read_inputs([path]))


def test_json_array(write):
    path = write("b.json", json.dumps([{"source": ZH[0], "mt": EN[0]}, "oops"], ensure_ascii=False))
    segs = list(read_inputs([path]))
    assert segs[0].mt == EN[0] and segs[1].problem and "item 2" in segs[1].problem


def test_several_files_get_prefixed_ids(write):
    a = write("a.tsv", f"source\tmt\n{ZH[0]}\t{EN[0]}\n")
    b = write("b.jsonl", json.dumps({"source": ZH[1], "mt": EN[1]}) + "\n")
    assert [s.id for s in read_inputs([a, b])] == ["a.tsv:1", "b.jsonl:1"]


@pytest.mark.parametrize(
    "kwargs, fragment",
    [({}, "no input"), ({"source": "s.zh"}, "needs both"), ({"refs": ["r.en"], "paths": ["a.tsv"]}, "-r/--ref"),
     ({"fmt": "xml", "paths": ["a.tsv"]}, "unknown format")],
)
def test_usage_errors(kwargs, fragment):
    paths = kwargs.pop("paths", ())
    with pytest.raises(UsageError, match=fragment):
        list(read_inputs(paths, **kwargs))


def test_dataset_parquet_and_saved_dir(tmp_path):
    import datasets

    rows = {"source": ZH, "mt": EN, "ref": REF, "id": ["a", "b", "c"]}
    ds = datasets.Dataset.from_dict(rows)
    pq = tmp_path / "b.parquet"
    ds.to_parquet(str(pq))
    segs = list(read_inputs([pq]))
    assert [s.id for s in segs] == ["a", "b", "c"] and segs[2].source == ZH[2] and segs[1].references == (REF[1],)
    saved = tmp_path / "saved"
    ds.save_to_disk(str(saved))
    assert [s.mt for s in read_inputs([saved])] == EN
    assert [s.mt for s in read_inputs([pq], fmt="dataset")] == EN


def test_dataset_missing_column(tmp_path):
    import datasets

    pq = tmp_path / "b.parquet"
    datasets.Dataset.from_dict({"source": ZH}).to_parquet(str(pq))
    with pytest.raises(MissingColumnsError, match="mt"):
        list(read_inputs([pq]))


def test_unreadable_file_in_a_batch_is_reported_and_others_read(write):
    good = write("good.tsv", f"source\tmt\n{ZH[0]}\t{EN[0]}\n")
    bad = write("bad.xlf", '<?xml version="1.0"?>\n<xliff version="1.2">\n<file><body><trans-unit id="1">\n</xliff>\n')
    other = write("other.jsonl", json.dumps({"source": ZH[1], "mt": EN[1]}, ensure_ascii=False) + "\n")
    segs = list(read_inputs([good, bad, other]))
    assert [s.id for s in segs] == ["good.tsv:1", "bad.xlf:(file)", "other.jsonl:1"]
    assert segs[1].problem and str(bad) in segs[1].problem and segs[1].origin.line is not None
    with pytest.raises(InputError):
        list(read_inputs([bad]))
