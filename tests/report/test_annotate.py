"""Writing the verdict back into XLIFF and PO files (mtcheck.report.annotate)."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest

from mtcheck.core import SegmentResult, Severity, Side, Span
from mtcheck.errors import UsageError
from mtcheck.io.l10n import read_l10n, scan_xml
from mtcheck.report.annotate import annotate, note_lines

DATA = Path(__file__).resolve().parent.parent / "data" / "l10n"
XLF12 = DATA / "annual-report.xlf"
XLF2 = DATA / "policy.xlf"
PO = DATA / "messages.po"


def results_for(path, ids, prefix=""):
    segs = {s.id: s for s in read_l10n(path)}
    out = {}
    for sid in ids:
        seg = segs[sid]
        spans = [Span(0, min(3, len(seg.mt)), Side.MT, "Accuracy/Mistranslation", Severity.MAJOR,
                      "wrong term for 营业收入", check="terms")]
        out[prefix + sid] = SegmentResult(seg, scores={"chrf": 41.256, "comet": None}, spans=spans)
    return out


def changed_lines(before: bytes, after: bytes) -> list[int]:
    """1-based lines of ``before`` that differ, and the line before which text was inserted."""
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    out = []
    for tag, i1, i2, _, _ in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        out.extend(range(i1 + 1, i2 + 1) if i2 > i1 else [i1])
    return out


# --------------------------------------------------------------------------- round trip without findings


@pytest.mark.parametrize("src", [XLF12, XLF2, PO])
def test_no_failing_units_is_byte_identical(tmp_path, src):
    out = tmp_path / ("out" + src.suffix)
    everything = {s.id: SegmentResult(s) for s in read_l10n(src)}
    assert annotate(src, out, everything, set()) == []
    assert out.read_bytes() == src.read_bytes()


def test_ids_of_other_files_are_ignored_with_a_prefix(tmp_path):
    out = tmp_path / "o.xlf"
    assert annotate(XLF12, out, {}, {"other.po:1", "other.po:2"}, id_prefix="annual-report.xlf:") == []
    assert out.read_bytes() == XLF12.read_bytes()


# --------------------------------------------------------------------------- XLIFF 1.2


def unit_spans(path: Path, tag: str) -> dict[str, tuple[int, int, bytes]]:
    """Unit id to (first line, last line, raw bytes) of every ``tag`` element."""
    scan = scan_xml(path)
    out = {}
    for node in scan.find(tag):
        key = node.attrs.get("id") or str(node.line)
        if tag == "segment":
            parent = scan.nodes[node.parent]
            key = parent.attrs["id"] + ("::" + node.attrs["id"] if "id" in node.attrs else "")
        last = scan.position(node.end - 1)[0]
        out[key] = (node.line, last, scan.data[node.start:node.end])
    return out


def test_xliff12_only_failing_units_change(tmp_path):
    out = tmp_path / "o.xlf"
    failing = {"ar-1", "ar-6"}
    assert annotate(XLF12, out, results_for(XLF12, failing), failing) == ["ar-1", "ar-6"]
    before, after = unit_spans(XLF12, "trans-unit"), unit_spans(out, "trans-unit")
    for uid in before:
        assert (before[uid][2] == after[uid][2]) == (uid not in failing), uid
    allowed = {n for uid in failing for n in range(before[uid][0], before[uid][1] + 1)}
    assert set(changed_lines(XLF12.read_bytes(), out.read_bytes())) <= allowed


def test_xliff12_failing_unit_content(tmp_path):
    out = tmp_path / "o.xlf"
    annotate(XLF12, out, results_for(XLF12, ["ar-1"]), {"ar-1"})
    text = out.read_text(encoding="utf-8")
    assert ('<target state="needs-review-translation">The Company\'s operating revenue for 2023 was RMB 520 million.'
            "</target>\n        <note from=\"mtcheck\" annotates=\"target\">mtcheck: needs review (chrf=41.26)\n"
            "major Accuracy/Mistranslation: wrong term for 营业收入 [mt: 'The']</note>\n"
            '        <note from="translator">') in text
    seg = {s.id: s for s in read_l10n(out)}["ar-1"]
    assert seg.metadata["state"] == "needs-review"
    assert seg.metadata["notes"][0].startswith("mtcheck: needs review (chrf=41.26)")
    # the unit's text is untouched
    assert seg.mt == "The Company's operating revenue for 2023 was RMB 520 million."


def test_xliff12_untranslated_unit_gets_a_note_and_no_invented_target(tmp_path):
    out = tmp_path / "o.xlf"
    annotate(XLF12, out, {}, {"ar-6"})
    unit = unit_spans(out, "trans-unit")["ar-6"][2].decode("utf-8")
    assert "<target" not in unit
    assert unit.endswith('<source>附录</source>\n        <note from="mtcheck" annotates="target">'
                         "mtcheck: needs review: flagged by the mtcheck quality gate</note>\n      </trans-unit>")


def test_xliff12_reannotating_replaces_the_old_note(tmp_path):
    once, twice = tmp_path / "1.xlf", tmp_path / "2.xlf"
    res = results_for(XLF12, ["ar-1", "ar-3"])
    annotate(XLF12, once, res, {"ar-1", "ar-3"})
    annotate(once, twice, res, {"ar-1", "ar-3"})
    assert twice.read_bytes() == once.read_bytes()


def test_xliff12_prefixed_namespace_and_self_closing_target_and_crlf(write, tmp_path):
    text = ('<?xml version="1.0"?>\r\n<x:xliff version="1.2" xmlns:x="urn:oasis:names:tc:xliff:document:1.2">\r\n'
            '<x:file original="a" source-language="zh" target-language="en" datatype="plaintext"><x:body>\r\n'
            '  <x:trans-unit id="1">\r\n    <x:source>营业收入</x:source>\r\n    <x:target/>\r\n  </x:trans-unit>\r\n'
            '  <x:trans-unit id="2">\r\n    <x:source>净利润</x:source>\r\n    <x:target>Net profit</x:target>\r\n'
            "  </x:trans-unit>\r\n</x:body></x:file></x:xliff>\r\n")
    src = write("p.xlf", text.encode("utf-8"))
    out = tmp_path / "o.xlf"
    annotate(src, out, {}, {"1"})
    expected = text.replace(
        '    <x:target/>\r\n',
        '    <x:target state="needs-review-translation"/>\r\n'
        '    <x:note from="mtcheck" annotates="target">mtcheck: needs review: flagged by the mtcheck quality gate'
        "</x:note>\r\n")
    assert out.read_bytes() == expected.encode("utf-8")
    assert {s.id: s.metadata["state"] for s in read_l10n(out)} == {"1": "untranslated", "2": "translated"}


def test_xliff12_gb18030_file_stays_gb18030(write, tmp_path):
    text = ('<?xml version="1.0" encoding="GB18030"?>\n<xliff version="1.2" '
            'xmlns="urn:oasis:names:tc:xliff:document:1.2"><file original="a" source-language="zh" '
            'target-language="en" datatype="plaintext"><body>\n<trans-unit id="1"><source>营业收入𠀀</source>'
            "<target>Revenue</target></trans-unit>\n</body></file></xliff>\n")
    src = write("g.xlf", text.encode("gb18030"))
    out = tmp_path / "o.xlf"
    annotate(src, out, {}, {"1"})
    expected = text.replace("<target>Revenue</target>",
                            '<target state="needs-review-translation">Revenue</target><note from="mtcheck" '
                            'annotates="target">mtcheck: needs review: flagged by the mtcheck quality gate</note>')
    assert out.read_bytes() == expected.encode("gb18030")


# --------------------------------------------------------------------------- XLIFF 2.0


def test_xliff2_only_failing_units_change(tmp_path):
    out = tmp_path / "o.xlf"
    failing = {"u2::s2"}
    annotate(XLF2, out, results_for(XLF2, failing), failing)
    before, after = unit_spans(XLF2, "unit"), unit_spans(out, "unit")
    assert [uid for uid in before if before[uid][2] != after[uid][2]] == ["u2"]
    assert set(changed_lines(XLF2.read_bytes(), out.read_bytes())) <= set(range(before["u2"][0], before["u2"][1] + 1))
    segs = {s.id: s for s in read_l10n(out)}
    assert segs["u2::s2"].metadata["state"] == "needs-review"
    assert segs["u2::s2"].metadata["raw_state"] == "translated"  # a reviewed segment loses its review
    assert segs["u2::s1"].metadata["state"] == "fuzzy"  # untouched sibling
    assert segs["u2::s1"].metadata["notes"][0].startswith("mtcheck (segment s2): needs review (chrf=41.26)")


@pytest.mark.parametrize(
    "sid, start_tag",
    [
        ("u1", '<segment state="translated" subState="mtcheck:needs-review">'),
        ("u2::s1", '<segment id="s1" state="initial" subState="mtcheck:needs-review">'),  # a draft stays initial
        ("u2::s2", '<segment id="s2" state="translated" subState="mtcheck:needs-review">'),
        ("u3", '<segment state="initial" subState="mtcheck:needs-review">'),  # no state = initial, made explicit
    ],
)
def test_xliff2_state_and_substate(tmp_path, sid, start_tag):
    out = tmp_path / "o.xlf"
    annotate(XLF2, out, {}, {sid})
    assert start_tag in out.read_text(encoding="utf-8")


def test_xliff2_notes_added_to_existing_notes(tmp_path):
    out = tmp_path / "o.xlf"
    annotate(XLF2, out, {}, {"u1"})
    assert ('      <notes>\n        <note category="context">Heading of the leave policy.</note>\n'
            '        <note category="mtcheck" appliesTo="target">mtcheck: needs review: flagged by the mtcheck '
            "quality gate</note>\n      </notes>\n") in out.read_text(encoding="utf-8")


def test_xliff2_notes_created_before_the_segments(tmp_path):
    out = tmp_path / "o.xlf"
    annotate(XLF2, out, {}, {"u3"})
    assert ('    <unit id="u3">\n      <notes>\n        <note category="mtcheck" appliesTo="target">mtcheck: '
            "needs review: flagged by the mtcheck quality gate</note>\n      </notes>\n"
            '      <segment state="initial" subState="mtcheck:needs-review">\n') in out.read_text(encoding="utf-8")


def test_xliff2_reannotating_is_stable(tmp_path):
    once, twice = tmp_path / "1.xlf", tmp_path / "2.xlf"
    ids = {"u1", "u2::s1", "u3"}
    annotate(XLF2, once, results_for(XLF2, ids), ids)
    annotate(once, twice, results_for(XLF2, ids), ids)
    assert twice.read_bytes() == once.read_bytes()
    notes = [n for s in read_l10n(twice) if s.id == "u1" for n in s.metadata["notes"]]
    assert sum(n.startswith("mtcheck") for n in notes) == 1


# --------------------------------------------------------------------------- PO


def po_blocks(data: bytes) -> list[bytes]:
    return data.replace(b"\r\n", b"\n").split(b"\n\n")


def test_po_only_failing_entries_change(tmp_path):
    out = tmp_path / "o.po"
    failing = {"1", "4[1]", "5"}
    annotate(PO, out, results_for(PO, failing), failing)
    before, after = po_blocks(PO.read_bytes()), po_blocks(out.read_bytes())
    # blocks: header, 1, 2, 3, 4, 5, 6
    assert [i for i, (a, b) in enumerate(zip(before, after)) if a != b] == [1, 4, 5]
    assert len(before) == len(after)


def test_po_entry_gets_comment_and_fuzzy(tmp_path):
    out = tmp_path / "o.po"
    annotate(PO, out, results_for(PO, ["1"]), {"1"})
    block = po_blocks(out.read_bytes())[1].decode("utf-8")
    assert block == ("# mtcheck: needs review (chrf=41.26)\n"
                     "# mtcheck: major Accuracy/Mistranslation: wrong term for 营业收入 [mt: 'Wel']\n"
                     "#. Shown on the dashboard\n#: src/dashboard.py:12\n#, fuzzy\n"
                     'msgid "欢迎使用企业门户，%(name)s！"\nmsgstr "Welcome to the corporate portal, %(name)s!"')
    seg = next(s for s in read_l10n(out) if s.id == "1")
    assert seg.metadata["state"] == "fuzzy" and seg.mt == "Welcome to the corporate portal, %(name)s!"


def test_po_already_fuzzy_entry_keeps_one_flag(tmp_path):
    out = tmp_path / "o.po"
    annotate(PO, out, {}, {"2"})
    block = po_blocks(out.read_bytes())[2].decode("utf-8")
    assert block.count("fuzzy") == 1 and block.startswith("# mtcheck: needs review")


def test_po_plural_forms_share_the_entry(tmp_path):
    out = tmp_path / "o.po"
    annotate(PO, out, {}, {"4[0]", "4[1]"})
    block = po_blocks(out.read_bytes())[4].decode("utf-8")
    assert block.startswith("# mtcheck (plural form 0): needs review: flagged by the mtcheck quality gate\n"
                            "# mtcheck (plural form 1): needs review: flagged by the mtcheck quality gate\n"
                            "#, fuzzy\nmsgid ")


@pytest.mark.parametrize(
    "flags, expected",
    [("#, c-format\n", "#, c-format, fuzzy\n"), ("#, fuzzy, c-format\n", "#, fuzzy, c-format\n"),
     ("", "#, fuzzy\n")],
)
def test_po_flags_line(write, tmp_path, flags, expected):
    src = write("f.po", f'# 译者注\n{flags}#| msgid "旧"\nmsgid "新产品"\nmsgstr "New product"\n')
    out = tmp_path / "o.po"
    annotate(src, out, {}, {"1"})
    assert out.read_text(encoding="utf-8") == (
        "# mtcheck: needs review: flagged by the mtcheck quality gate\n# 译者注\n" + expected
        + '#| msgid "旧"\nmsgid "新产品"\nmsgstr "New product"\n')


def test_po_crlf_and_gbk_preserved_and_stable(write, tmp_path):
    text = ('msgid ""\r\nmsgstr ""\r\n"Content-Type: text/plain; charset=GBK\\n"\r\n\r\n'
            'msgctxt "菜单"\r\nmsgid "股东大会"\r\nmsgstr "General meeting"\r\n\r\n'
            'msgid "董事会"\r\nmsgstr "Board"\r\n')
    src = write("g.po", text.encode("gbk"))
    once, twice = tmp_path / "1.po", tmp_path / "2.po"
    annotate(src, once, {}, {"1"})
    expected = text.replace('msgctxt "菜单"', "# mtcheck: needs review: flagged by the mtcheck quality gate\r\n"
                                             '#, fuzzy\r\nmsgctxt "菜单"')
    assert once.read_bytes() == expected.encode("gbk")
    annotate(once, twice, {}, {"1"})
    assert twice.read_bytes() == once.read_bytes()


# --------------------------------------------------------------------------- API details


def test_prefixed_ids_map_back(tmp_path):
    out = tmp_path / "o.po"
    res = results_for(PO, ["3"], prefix="messages.po:")
    assert annotate(PO, out, res, {"messages.po:3", "annual-report.xlf:ar-1"}, id_prefix="messages.po:") == ["3"]
    assert "wrong term" in po_blocks(out.read_bytes())[3].decode("utf-8")


def test_unknown_id_is_an_error(tmp_path):
    with pytest.raises(UsageError, match="no segment with id nope"):
        annotate(XLF12, tmp_path / "o.xlf", {}, {"nope"})


def test_tmx_cannot_be_annotated(tmp_path):
    with pytest.raises(UsageError, match="TMX"):
        annotate(DATA / "memory.tmx", tmp_path / "o.tmx", {}, {"tm-1"})


def test_annotating_in_place(tmp_path):
    path = tmp_path / "a.xlf"
    shutil.copy(XLF12, path)
    annotate(path, path, {}, {"ar-2"})
    assert {s.id: s.metadata["state"] for s in read_l10n(path)}["ar-2"] == "needs-review"
    assert [p.name for p in tmp_path.iterdir()] == ["a.xlf"]  # no temporary file left behind


def test_note_lines_for_a_failed_segment():
    seg = next(iter(read_l10n(PO)))
    res = SegmentResult(seg, status="failed", error="line 3: bad\nrecord")
    assert note_lines(res) == ["needs review", "not checked: line 3: bad record"]


def test_output_keeps_the_input_permissions(tmp_path):
    src = tmp_path / "in.po"
    shutil.copy(PO, src)
    src.chmod(0o644)
    out = tmp_path / "out.po"
    annotate(src, out, {}, {"1"})
    assert out.stat().st_mode & 0o777 == 0o644
