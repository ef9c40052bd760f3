"""Segments out == segments in: through every reader, the pipeline and the outputs.

Well-formed files written by an ordinary tool must read back with exactly
their records and texts; localisation files with exactly one segment per
unit; a batch with unreadable records or files must still report every
record, the bad ones as failed with their reason.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mtcheck.config import ScoreConfig
from mtcheck.io import read_inputs
from mtcheck.pipeline import score_batch
from tests.robustness import targets as T


@pytest.mark.parametrize("fmt", ["text", "tsv", "csv", "jsonl", "json"])
def test_records_round_trip_with_their_exact_text(fmt):
    records = st.lists(st.builds(T.Record, T.roundtrip_text(fmt), T.roundtrip_text(fmt), T.roundtrip_text(fmt)),
                       max_size=6)

    @T.fuzz_settings(40)
    @given(records)
    def run(recs):
        T.roundtrip_target(fmt, recs)

    run()


def _units():
    text = st.lists(st.one_of(T.hostile_text(max_size=5), st.sampled_from(("{g}", "{x}", "{cp}"))),
                    max_size=3).map("".join)
    return st.lists(st.tuples(st.sampled_from(("1", "2", "a&b", "<i>", "")), text, text), min_size=1, max_size=5)


@pytest.mark.parametrize("fmt, variant", [("xliff", 0), ("xliff", 1), ("tmx", 0), ("po", 0)])
def test_localisation_files_give_one_segment_per_unit(fmt, variant, tmp_path):
    suffix = {"xliff": ".xlf", "tmx": ".tmx", "po": ".po"}[fmt]

    @T.fuzz_settings(30)
    @given(_units())
    def run(units):
        path = tmp_path / f"f{suffix}"
        path.write_bytes(T.l10n_doc(fmt, units, variant))
        segs = list(read_inputs([path]))
        assert len(segs) == len(units)
        ids = [s.id for s in segs]
        assert len(set(ids)) == len(ids), ids  # repeated or missing unit ids fall back to positions
        for seg in segs:
            T.check_segment_read(seg, fmt)

    run()


def test_bad_records_come_out_failed_in_place(write):
    path = write("b.jsonl", "\n".join([
        '{"id": "a", "source": "一", "mt": "one"}',
        "not json",
        '{"id": "c", "source": "\\ud800", "mt": "x"}',
        "[" * 5000,
        '{"id": "e", "source": "五", "mt": "five"}',
        '["a list"]',
        '{"id": "g", "source": 7, "mt": "seven"}',
    ]) + "\n")
    batch = score_batch(list(read_inputs([path])), ScoreConfig(metrics=("chrf",)))
    assert [(r.segment.id, r.status) for r in batch.segments] == [
        ("a", "ok"), ("line2", "failed"), ("c", "failed"), ("line4", "failed"), ("e", "ok"), ("line6", "failed"),
        ("g", "failed")]
    assert all(r.error for r in batch.failed)
    assert sorted(i for d in batch.documents for i in d.segment_ids) == sorted(r.segment.id for r in batch.segments)


def test_an_unreadable_file_in_a_batch_is_one_failed_segment_and_the_others_are_read(write):
    good = write("good.tsv", "source\tmt\n一\tone\n二\ttwo\n")
    bad = write("bad.jsonl", "[" * 100_000 + "\n")  # every line broken: no record with keys to check
    broken = write("broken.xlf", "<xliff version='1.2'><file><body><trans-unit id='1'>")
    segs = list(read_inputs([good, bad, broken]))
    assert [(s.id, s.problem is None) for s in segs] == [
        ("good.tsv:1", True), ("good.tsv:2", True), ("bad.jsonl:line1", False), ("broken.xlf:(file)", False)]


@T.fuzz_settings(40)
@given(T.segments_strategy(max_segments=10))
def test_pipeline_keeps_count_order_and_reasons(segments):
    batch = score_batch(segments, ScoreConfig(metrics=()))
    assert len(batch.segments) == len(segments)
    for seg, r in zip(segments, batch.segments):
        assert (r.segment.source, r.segment.mt) == (seg.source, seg.mt)
        assert (r.status == "failed") == (seg.problem is not None)
        assert r.error == seg.problem
