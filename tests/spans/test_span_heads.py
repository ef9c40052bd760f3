"""scripts/span_heads.py: MQM categories as the three WMT files spell them, and the raters' category spans."""

from __future__ import annotations

import pytest

from tests.conftest import import_script, mqm_tsv


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Accuracy/Mistranslation", "Accuracy/Mistranslation"),
        ("Accuracy/Addition", "Accuracy/Addition"),
        ("Fluency/Grammar", "Fluency/Grammar"),
        ("Fluency/Punctuation", "Fluency/Punctuation"),
        ("Fluency/Spelling", "Fluency/Spelling"),
        ("Locale_convention/Name", "Locale convention"),  # newstest2021's spelling
        ("Locale convention/Name format", "Locale convention"),  # newstest2020's and TED's
        ("Style/Awkward", "Style/Awkward"),
        ("Terminology/Inappropriate", "Terminology"),
        ("Terminology/Inappropriate for context", "Terminology"),
        ("Accuracy/Omission", None),  # marked in the source, not a span over the MT
        ("Non_translation", None),
        ("Other", None),
        ("Fluency/Inconsistency", None),
    ],
)
def test_category(raw, expected):
    assert import_script("span_heads").category(raw) == expected


def test_category_spans_reads_rows_that_fit_the_chosen_text(write):
    script = import_script("span_heads")
    path = write("mqm.tsv", mqm_tsv([
        ("sysA", "d", "1", "1", "r1", "源", "The <v>cat</v> sat.", "Accuracy/Mistranslation", "Major"),
        ("sysA", "d", "1", "1", "r2", "源", "The cat <v>sat</v>.", "Locale_convention/Name", "Minor"),
        ("sysA", "d", "1", "1", "r3", "源", "The cat sat.", "No-error", "No-error"),
        # another rendering of the same item (the loader chose the text above): not ours
        ("sysA", "d", "1", "1", "r4", "源", "A <v>cat</v> sat.", "Fluency/Grammar", "Minor"),
        ("sysB", "d", "1", "1", "r1", "源", "<v>Dog</v>.", "Other", "Minor"),
    ]))
    got = script.category_spans(path, {("sysA", 1): "The cat sat.", ("sysB", 1): "Dog."})
    assert dict(got) == {("sysA", 1): [(4, 7, "Accuracy/Mistranslation"), (8, 11, "Locale convention")],
                         ("sysB", 1): [(0, 3, None)]}
