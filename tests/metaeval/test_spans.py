"""Human MQM error spans → per-character rater rates (on a small file written here)."""

from __future__ import annotations

import pytest

from mtcheck.metaeval.spans import error_char_rates, tagged_spans, token_rates

HEADER = "system\tdoc\tdoc_id\tseg_id\trater\tsource\ttarget\tcategory\tseverity\n"


@pytest.mark.parametrize(
    "target, text, spans",
    [
        ("no tags", "no tags", []),
        ("a <v>bad</v> word", "a bad word", [(2, 5)]),
        ("<v>Two</v> and <v>three</v>", "Two and three", [(0, 3), (8, 13)]),
        ("open <v>to the end", "open to the end", [(5, 15)]),
        ("stray</v> close", "stray close", []),
        ("empty <v></v>span", "empty span", []),
        ("净<v>利润</v>𠀀", "净利润𠀀", [(1, 3)]),
    ],
)
def test_tagged_spans(target, text, spans):
    assert tagged_spans(target) == (text, spans)


def test_rates_count_raters_whose_text_matches(tmp_path):
    rows = [
        # three raters on one item: two mark "sales" (one Major, one Minor), one finds nothing
        ("S", "d", "1", "1", "r1", "源", "Net <v>sales</v> rose.", "Accuracy/Mistranslation", "Major"),
        ("S", "d", "1", "1", "r2", "源", "Net <v>sales</v> rose.", "Fluency/Grammar", "Minor"),
        ("S", "d", "1", "1", "r3", "源", "Net sales rose.", "No-error", "No-error"),
        # a rater whose pasted fragment changes the text is left out
        ("S", "d", "1", "1", "r4", "源", "Net <v>sales revenue</v> rose.", "Accuracy/Mistranslation", "Major"),
        # an item of another system, not in the dataset
        ("T", "d", "1", "1", "r1", "源", "<v>x</v>", "Other", "Major"),
    ]
    path = tmp_path / "mqm.tsv"
    path.write_text(HEADER + "".join("\t".join(r) + "\n" for r in rows), encoding="utf-8")
    chosen = {("S", 1): "Net sales rose."}
    rates = error_char_rates(path, chosen)
    third = 1 / 3
    assert rates[("S", 1)] == [0.0] * 4 + [2 * third] * 5 + [0.0] * 6
    major = error_char_rates(path, chosen, severities=frozenset({"major"}))
    assert major[("S", 1)] == [0.0] * 4 + [third] * 5 + [0.0] * 6
    # per token: the highest rate of its characters
    assert token_rates(rates[("S", 1)], [(0, 3), (3, 5), (4, 9), (10, 15)]) == [0.0, 2 * third, 2 * third, 0.0]
