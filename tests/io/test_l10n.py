"""Reading XLIFF 1.2/2.0, PO and TMX files into segments (mtcheck.io.l10n)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mtcheck.checks.empty import EmptyCheck
from mtcheck.checks.placeholders import PlaceholdersCheck
from mtcheck.config import CheckOptions
from mtcheck.core import Severity, Side
from mtcheck.errors import EmptyInputError, EncodingError, InputError, UsageError
from mtcheck.io.l10n import L10N_EXTENSIONS, detect_l10n_format, expand_l10n_paths, read_l10n

DATA = Path(__file__).resolve().parent.parent / "data" / "l10n"
XLF12 = DATA / "annual-report.xlf"
XLF2 = DATA / "policy.xlf"
PO = DATA / "messages.po"
TMX = DATA / "memory.tmx"


def by_id(path, **kw):
    return {s.id: s for s in read_l10n(path, **kw)}


def xliff12(units: str, extra_files: str = "", decl: str = '<?xml version="1.0" encoding="UTF-8"?>\n') -> str:
    return (decl + '<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2">\n'
            '<file original="doc.html" source-language="zh-CN" target-language="en" datatype="html"><body>\n'
            + units + "\n</body></file>" + extra_files + "\n</xliff>\n")


# --------------------------------------------------------------------------- formats


@pytest.mark.parametrize("name, fmt", [("a.xlf", "xliff"), ("a.XLIFF", "xliff"), ("a.po", "po"), ("a.pot", "po"),
                                       ("a.tmx", "tmx"), ("a.tsv", None), ("a.ts", None)])
def test_detect_l10n_format(name, fmt):
    assert detect_l10n_format(name) == fmt


def test_extensions_map_to_known_formats():
    assert set(L10N_EXTENSIONS.values()) == {"xliff", "po", "tmx"}


def test_unknown_extension_is_a_usage_error(write):
    with pytest.raises(UsageError, match="not a localisation file"):
        read_l10n(write("a.txt", "x"))


# --------------------------------------------------------------------------- XLIFF 1.2


@pytest.mark.parametrize(
    "sid, source, mt, state",
    [
        ("ar-1", "本公司2023年营业收入为5.2亿元。", "The Company's operating revenue for 2023 was RMB 520 million.",
         "translated"),
        ("ar-2", '请点击<g id="1">此处</g>下载<x id="2"/>年度报告。',
         'Please click <g id="1">here</g> to download the<x id="2"/> annual report.', "needs-review"),
        ("ar-3", '董事会批准了<bpt id="1"/>利润分配方案<ept id="1"/>。',
         'The Board approved the <bpt id="1"/>profit distribution plan<ept id="1"/>.', "translated"),
        ("ar-4", '联系人：<ph id="1"/>', "", "untranslated"),
        ("ar-5", '𠀀字为扩展B区汉字，<bx id="3"/>请勿修改<ex id="3"/>。',
         'The character 𠀀 is a CJK Extension B character; <bx id="3"/>do not modify it<ex id="3"/>.', "final"),
        ("ar-6", "附录", "", "untranslated"),
    ],
)
def test_xliff12_units(sid, source, mt, state):
    seg = by_id(XLF12)[sid]
    assert (seg.source, seg.mt, seg.metadata["state"]) == (source, mt, state)
    assert seg.doc == "annual-report.docx"
    assert seg.metadata["format"] == "xliff-1.2"
    assert (seg.metadata["source_lang"], seg.metadata["target_lang"]) == ("zh-CN", "en-US")
    assert seg.problem is None


def test_xliff12_ids_in_file_order_and_notes():
    segs = list(read_l10n(XLF12))
    assert [s.id for s in segs] == ["ar-1", "ar-2", "ar-3", "ar-4", "ar-5", "ar-6"]
    assert segs[0].metadata["notes"] == ['Keep "RMB" before the amount.']
    assert "notes" not in segs[1].metadata
    assert segs[3].metadata["raw_state"] == "new"


@pytest.mark.parametrize(
    "sid, unit_line, src, mt",
    # Counted by hand in annual-report.xlf: 8 spaces + "<source>" puts the text at column 17;
    # '        <target state="translated">' is 35 characters.
    [("ar-1", 8, (9, 17), (10, 36)), ("ar-3", 17, (18, 17), (19, 17)), ("ar-6", 29, (30, 17), None)],
)
def test_xliff12_origin(sid, unit_line, src, mt):
    o = by_id(XLF12)[sid].origin
    assert o.path == str(XLF12) and o.line == unit_line
    assert (o.source_pos.line, o.source_pos.column, o.source_pos.escape) == (*src, "opaque")
    assert (None if o.mt_pos is None else (o.mt_pos.line, o.mt_pos.column)) == mt


@pytest.mark.parametrize(
    "target, state",
    [
        ('<target state="needs-translation">Draft</target>', "fuzzy"),
        ('<target state="needs-review-l10n">Text</target>', "needs-review"),
        ('<target state="signed-off">Text</target>', "reviewed"),
        ("<target>Text</target>", "translated"),
        ("<target/>", "untranslated"),
        ('<target state="final">   </target>', "untranslated"),
    ],
)
def test_xliff12_state_mapping(write, target, state):
    path = write("s.xlf", xliff12(f'<trans-unit id="u"><source>文本</source>{target}</trans-unit>'))
    assert by_id(path)["u"].metadata["state"] == state


def test_xliff12_approved_without_state_is_reviewed(write):
    path = write("s.xlf", xliff12('<trans-unit id="u" approved="yes"><source>文本</source><target>Text</target>'
                                  "</trans-unit>"))
    assert by_id(path)["u"].metadata["state"] == "reviewed"


def test_xliff12_ids_fall_back_to_position(write):
    units = ('<trans-unit id="a"><source>一</source></trans-unit>\n'
             '<trans-unit><source>二</source></trans-unit>\n'
             '<trans-unit id="a"><source>三</source></trans-unit>')
    segs = list(read_l10n(write("d.xlf", xliff12(units))))
    assert [s.id for s in segs] == ["a", "unit2", "unit3"]
    assert [s.source for s in segs] == ["一", "二", "三"]


def test_xliff12_several_files_prefix_ids(write):
    second = ('\n<file original="faq.html" source-language="zh" target-language="en" datatype="html"><body>\n'
              '<trans-unit id="1"><source>常见问题</source><target>FAQ</target></trans-unit></body></file>')
    path = write("m.xlf", xliff12('<trans-unit id="1"><source>首页</source><target>Home</target></trans-unit>',
                                  extra_files=second))
    segs = list(read_l10n(path))
    assert [(s.id, s.doc, s.mt) for s in segs] == [("doc.html/1", "doc.html", "Home"),
                                                   ("faq.html/1", "faq.html", "FAQ")]
    assert segs[0].metadata["unit_id"] == "1"


def test_xliff12_untranslatable_units_are_skipped(write):
    units = ('<trans-unit id="a" translate="no"><source>代码</source></trans-unit>\n'
             '<trans-unit id="b"><source>说明</source><target>Note</target></trans-unit>')
    assert list(by_id(write("t.xlf", xliff12(units)))) == ["b"]


@pytest.mark.parametrize(
    "attrs, expected",
    [("", "第一行 第二行，全角：（）"), (' xml:space="preserve"', "第一行\n    第二行，全角：（）")],
)
def test_xliff_white_space(write, attrs, expected):
    unit = f'<trans-unit id="w"{attrs}><source>第一行\n    第二行，全角：（）</source></trans-unit>'
    assert by_id(write("w.xlf", xliff12(unit)))["w"].source == expected


def test_xliff_mrk_is_transparent_and_nested_g_kept(write):
    unit = ('<trans-unit id="m"><source><mrk mtype="term">董事会</mrk><g id="1">决议<g id="2">全文</g></g></source>'
            '<target><mrk mtype="term">Board</mrk><g id="1">resolution <g id="2">full text</g></g></target>'
            "</trans-unit>")
    seg = by_id(write("m.xlf", xliff12(unit)))["m"]
    assert seg.source == '董事会<g id="1">决议<g id="2">全文</g></g>'
    assert seg.mt == 'Board<g id="1">resolution <g id="2">full text</g></g>'


def test_xliff_without_units_is_empty(write):
    with pytest.raises(EmptyInputError):
        read_l10n(write("e.xlf", xliff12("")))


def test_not_xliff_root(write):
    with pytest.raises(InputError, match=r"root <xliff>.*<html>"):
        read_l10n(write("h.xlf", "<html><body/></html>"))


def test_gb18030_xliff_is_transcoded(write):
    text = xliff12('<trans-unit id="g"><source>营业收入𠀀</source><target>Revenue 𠀀</target></trans-unit>',
                   decl='<?xml version="1.0" encoding="GB18030"?>\n')
    seg = by_id(write("g.xlf", text.encode("gb18030")))["g"]
    assert (seg.source, seg.mt, seg.origin.line) == ("营业收入𠀀", "Revenue 𠀀", 4)


# --------------------------------------------------------------------------- inline markup meets the checks


def run_placeholders(seg):
    return PlaceholdersCheck().check_segment(seg, CheckOptions())


def test_inline_codes_intact_give_no_tag_findings():
    segs = by_id(XLF12)
    for sid in ("ar-2", "ar-3", "ar-5"):
        assert [s for s in run_placeholders(segs[sid]) if s.category.startswith("Markup")] == []


@pytest.mark.parametrize(
    "target, category, side",
    [
        # <x id="2"/> dropped by the MT
        ('Click <g id="1">here</g> to download the report.', "Markup/Placeholder missing", Side.SOURCE),
        # an extra code the source does not have
        ('Click <g id="1">here</g> to<x id="2"/> download<x id="9"/> the report.', "Markup/Placeholder added",
         Side.MT),
        # g closed outside its parent
        ('Click <g id="1">here<x id="2"/> to download the report.</g>', None, None),
    ],
)
def test_inline_codes_reach_the_placeholder_check(write, target, category, side):
    unit = (f'<trans-unit id="p"><source>请点击<g id="1">此处</g>下载<x id="2"/>报告。</source>'
            f"<target>{target}</target></trans-unit>")
    spans = run_placeholders(by_id(write("p.xlf", xliff12(unit)))["p"])
    if category is None:
        assert [s for s in spans if s.category.startswith("Markup")] == []  # same tags, legal nesting
    else:
        assert any(s.category == category and s.side is side for s in spans)


def test_misnested_pc_is_a_nesting_finding(write):
    text = ('<?xml version="1.0"?>\n<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0" '
            'srcLang="zh" trgLang="en"><file id="f"><unit id="n"><segment>'
            '<source><pc id="1">年度<pc id="2">报告</pc></pc></source>'
            '<target><pc id="1">annual</pc><pc id="2">report</pc></target></segment></unit></file></xliff>')
    seg = by_id(write("n.xlf", text))["n"]
    assert seg.source == '<pc id="1">年度<pc id="2">报告</pc></pc>'
    # Same tags in both, so nothing missing; the check compares multisets, and nesting is legal here.
    assert [s for s in run_placeholders(seg) if s.category.startswith("Markup/Placeholder")] == []


def test_untranslated_unit_is_a_critical_omission():
    seg = by_id(XLF12)["ar-4"]
    spans = EmptyCheck().check_segment(seg, CheckOptions())
    assert [(s.category, s.severity, s.side) for s in spans] == [("Accuracy/Omission", Severity.CRITICAL, Side.SOURCE)]


# --------------------------------------------------------------------------- XLIFF 2.0


@pytest.mark.parametrize(
    "sid, source, mt, state, line",
    [
        ("u1", '员工每年享有<pc id="1">十五天</pc>带薪年假。',
         'Employees are entitled to <pc id="1">fifteen days</pc> of paid annual leave each year.', "translated", 8),
        ("u2::s1", '报销金额上限为<ph id="1"/>元。', 'The reimbursement limit is <ph id="1"/> yuan.', "fuzzy", 14),
        ("u2::s2", '详情请见<sc id="2"/>员工手册<ec startRef="2"/>。',
         'For details, see the <sc id="2"/>Employee Handbook<ec startRef="2"/>.', "reviewed", 18),
        ("u3", "本政策自发布之日起生效。", "", "untranslated", 24),
    ],
)
def test_xliff2_segments(sid, source, mt, state, line):
    seg = by_id(XLF2)[sid]
    assert (seg.source, seg.mt, seg.metadata["state"], seg.origin.line) == (source, mt, state, line)
    assert seg.doc == "hr-policy.html" and seg.metadata["format"] == "xliff-2.0"
    assert (seg.metadata["source_lang"], seg.metadata["target_lang"]) == ("zh-CN", "en-GB")


def test_xliff2_unit_notes_and_order():
    segs = list(read_l10n(XLF2))
    assert [s.id for s in segs] == ["u1", "u2::s1", "u2::s2", "u3"]
    assert segs[0].metadata["notes"] == ["Heading of the leave policy."]


def test_xliff2_missing_state_is_initial_per_spec(write):
    text = ('<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0" srcLang="zh" trgLang="en">'
            '<file id="f"><unit id="a"><segment><source>一</source><target>One</target></segment>'
            '<segment><source>二</source><target>Two</target></segment></unit>'
            '<unit id="b"><segment state="final" subState="mtcheck:needs-review"><source>三</source>'
            "<target>Three</target></segment></unit></file></xliff>")
    segs = by_id(write("s.xlf", text))
    assert list(segs) == ["a::segment-1", "a::segment-2", "b"]
    assert segs["a::segment-1"].metadata["state"] == "fuzzy"
    assert segs["b"].metadata["state"] == "needs-review"
    assert segs["b"].metadata["substate"] == "mtcheck:needs-review"


def test_xliff2_cp_and_isolated_ec(write):
    text = ('<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0" srcLang="zh" trgLang="en">'
            '<file id="f"><unit id="a"><segment><source>制表<cp hex="0009"/>符<ec id="e1" isolated="yes"/></source>'
            "</segment></unit></file></xliff>")
    assert by_id(write("c.xlf", text))["a"].source == '制表\t符<ec id="e1"/>'


# --------------------------------------------------------------------------- PO


@pytest.mark.parametrize(
    "sid, source, mt, state, line",
    [
        ("1", "欢迎使用企业门户，%(name)s！", "Welcome to the corporate portal, %(name)s!", "translated", 13),
        ("2", "提交审批", "Submit approval", "fuzzy", 18),
        ("3", "提交审批", "Submit for Approval", "translated", 22),
        ("4[0]", "您有%d条待办事项。", "You have %d pending item.", "translated", 25),
        ("4[1]", "您有%d条待办事项。", "You have %d pending items.", "translated", 25),
        ("5", "本文件仅供内部使用。", "", "untranslated", 31),
        ("6", "季度报告已于2024年3月31日发布，请查阅。",
         "The quarterly report was published on 31 March 2024; please review it.", "translated", 34),
    ],
)
def test_po_entries(sid, source, mt, state, line):
    seg = by_id(PO)[sid]
    assert (seg.source, seg.mt, seg.metadata["state"], seg.origin.line) == (source, mt, state, line)
    assert seg.doc == "messages.po" and seg.metadata["format"] == "po"


def test_po_header_not_a_segment_and_order():
    assert [s.id for s in read_l10n(PO)] == ["1", "2", "3", "4[0]", "4[1]", "5", "6"]


def test_po_context_notes_locations_and_plural_form():
    segs = by_id(PO)
    assert segs["2"].metadata["context"] == "button" and segs["3"].metadata["context"] == "menu"
    assert "context" not in segs["1"].metadata
    assert segs["1"].metadata["notes"] == ["Shown on the dashboard"]
    assert segs["1"].metadata["locations"] == ["src/dashboard.py:12"]
    assert segs["5"].metadata["notes"] == ["Translator: legal wording pending."]
    assert (segs["4[0]"].metadata["plural_form"], segs["4[1]"].metadata["plural_form"]) == (0, 1)


@pytest.mark.parametrize(
    "sid, src, mt",
    # 'msgid "' is 7 characters, 'msgstr "' 8, 'msgstr[1] "' 11, 'msgid_plural "' 14;
    # a string continued on the next line starts after its quote there (column 2).
    [("1", (13, 8), (14, 9)), ("4[1]", (26, 15), (28, 12)), ("6", (35, 2), (38, 2))],
)
def test_po_field_positions(sid, src, mt):
    o = by_id(PO)[sid].origin
    assert (o.source_pos.line, o.source_pos.column) == src
    assert (o.mt_pos.line, o.mt_pos.column) == mt


def test_po_plural_with_distinct_plural_source(write):
    text = ('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
            'msgid "一个文件"\nmsgid_plural "%d个文件"\nmsgstr[0] "one file"\nmsgstr[1] "%d files"\n')
    segs = by_id(write("p.po", text))
    assert [(s.id, s.source, s.mt) for s in segs.values()] == [("1[0]", "一个文件", "one file"),
                                                                ("1[1]", "%d个文件", "%d files")]


def test_po_obsolete_entries_skipped_and_crlf(write):
    text = ('msgid "年报"\r\nmsgstr "Annual report"\r\n\r\n'
            '#~ msgid "旧条目"\r\n#~ msgstr "Old entry"\r\n')
    segs = list(read_l10n(write("o.po", text.encode("utf-8"))))
    assert [(s.id, s.source, s.mt, s.origin.line) for s in segs] == [("1", "年报", "Annual report", 1)]


def test_po_in_gbk_charset(write):
    text = ('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=GBK\\n"\n\n'
            '# 注释\nmsgid "股东大会"\nmsgstr "General meeting"\n')
    seg = by_id(write("g.po", text.encode("gbk")))["1"]
    assert (seg.source, seg.mt, seg.origin.line, seg.origin.source_pos.column) == ("股东大会", "General meeting", 6, 8)


@pytest.mark.parametrize(
    "text, line",
    [
        ('msgid "一"\nmsgstr "one"\n\nmsgid "二\nmsgstr "two"\n', 4),  # unterminated string
        ('msgid "一"\nmsgstr "one"\nmsgstr "again"\n', 3),  # a second msgstr
    ],
)
def test_po_syntax_error_names_file_and_line(write, text, line):
    path = write("bad.po", text)
    with pytest.raises(InputError) as info:
        list(read_l10n(path))
    assert info.value.path == str(path) and info.value.line == line
    assert str(info.value).startswith(f"{path}:{line}: malformed PO")


def test_empty_po_is_empty_input(write):
    with pytest.raises(EmptyInputError):
        read_l10n(write("e.po", 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'))


# --------------------------------------------------------------------------- TMX


def test_tmx_languages_by_prefix_in_any_order():
    segs = list(read_l10n(TMX))
    assert [(s.id, s.source, s.mt) for s in segs] == [
        ("tm-1", "股东大会审议通过了该议案。", "The General Meeting of Shareholders approved the proposal."),
        ("tu2", "审计委员会共召开四次会议。", "The audit committee met four times."),  # en-GB listed first
        ("tm-3", '净利润同比增长<ph x="1"/>。', 'Net profit grew <ph x="1"/> year on year.'),
    ]
    assert segs[0].metadata["notes"] == ["From the 2022 annual report."]
    assert (segs[1].metadata["source_lang"], segs[1].metadata["target_lang"]) == ("zh-Hans", "en-GB")
    assert segs[1].origin.line == 10
    assert (segs[1].origin.source_pos.line, segs[1].origin.mt_pos.line) == (12, 11)


def tmx(body: str) -> str:
    return ('<?xml version="1.0"?>\n<tmx version="1.4"><header srclang="zh-CN" datatype="plaintext" segtype="sentence" '
            'adminlang="en" o-tmf="x" creationtool="t" creationtoolversion="1"/><body>\n' + body + "\n</body></tmx>\n")


def test_tmx_without_english_is_an_error(write):
    path = write("j.tmx", tmx('<tu><tuv xml:lang="zh-CN"><seg>你好</seg></tuv><tuv xml:lang="ja"><seg>こんにちは</seg></tuv></tu>'))
    with pytest.raises(InputError, match=r"no en variant.*ja, zh-CN"):
        read_l10n(path)


def test_tmx_tu_missing_a_side(write):
    body = ('<tu tuid="a"><tuv xml:lang="zh-CN"><seg>董事会</seg></tuv></tu>\n'
            '<tu tuid="b"><tuv xml:lang="en-US"><seg>Board</seg></tuv></tu>')
    segs = by_id(write("h.tmx", tmx(body)))
    assert (segs["a"].mt, segs["a"].metadata["state"], segs["a"].problem) == ("", "untranslated", None)
    assert "no Chinese" in segs["b"].problem and segs["b"].problem.startswith(f"{segs['b'].origin.path}:4:")


# --------------------------------------------------------------------------- malformed and hostile XML


def test_broken_xml_names_file_and_line(write):
    text = xliff12('<trans-unit id="1"><source>你好</source>\n<target>Hello</targt></trans-unit>')
    path = write("b.xlf", text)
    with pytest.raises(InputError) as info:
        list(read_l10n(path))
    assert (info.value.path, info.value.line) == (str(path), 5)
    assert "malformed XML" in str(info.value)


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE xliff [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2"><file original="a" source-language="zh"
 target-language="en" datatype="plaintext"><body><trans-unit id="1"><source>&lol9;</source></trans-unit>
</body></file></xliff>
"""


@pytest.mark.parametrize(
    "name, text, line",
    [
        ("bomb.xlf", BILLION_LAUGHS, 3),
        ("xxe.xlf", '<?xml version="1.0"?>\n<!DOCTYPE x [\n<!ENTITY secret SYSTEM "file:///etc/passwd">\n]>\n'
                    + xliff12('<trans-unit id="1"><source>&secret;</source></trans-unit>', decl=""), 3),
        ("pe.tmx", '<?xml version="1.0"?>\n<!DOCTYPE tmx [\n<!ENTITY % ext SYSTEM "file:///etc/passwd">\n%ext;\n]>\n'
                   '<tmx version="1.4"><header/><body/></tmx>', 3),
    ],
)
def test_entity_declarations_are_refused(write, name, text, line):
    path = write(name, text)
    with pytest.raises(InputError, match="entity") as info:
        list(read_l10n(path))
    assert (info.value.path, info.value.line) == (str(path), line)


def test_external_dtd_reference_is_not_fetched_and_file_reads(write):
    text = ('<?xml version="1.0"?>\n<!DOCTYPE xliff PUBLIC "-//XLIFF//DTD XLIFF//EN" '
            '"http://www.oasis-open.org/committees/xliff/documents/xliff.dtd">\n'
            + xliff12('<trans-unit id="1"><source>你好</source><target>Hello</target></trans-unit>', decl=""))
    assert by_id(write("d.xlf", text))["1"].mt == "Hello"


def test_unknown_xml_encoding(write):
    with pytest.raises(InputError, match="unknown encoding"):
        read_l10n(write("u.xlf", '<?xml version="1.0" encoding="no-such-codec"?>\n<xliff/>'))


def test_invalid_bytes_for_declared_encoding(write):
    raw = xliff12('<trans-unit id="1"><source>X</source></trans-unit>',
                  decl='<?xml version="1.0" encoding="GB18030"?>\n').encode("ascii")
    raw = raw.replace(b"<source>X", b"<source>\x81\x20")  # 0x81 must be followed by a valid trail byte
    with pytest.raises(EncodingError):
        read_l10n(Path(write("bad.xlf", raw)))


# --------------------------------------------------------------------------- expanding paths


def test_expand_directory_glob_and_plain(tmp_path):
    (tmp_path / "zh" / "sub").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    for rel in ("zh/b.po", "zh/a.xlf", "zh/sub/c.tmx", "zh/readme.md", ".git/x.po"):
        (tmp_path / rel).write_text("x", encoding="utf-8")
    data_dir = tmp_path / "dataset"
    data_dir.mkdir()
    (data_dir / "data.arrow").write_text("x", encoding="utf-8")
    got = expand_l10n_paths([tmp_path / "zh", data_dir, str(tmp_path / "zh" / "*.po"), tmp_path / "plain.tsv"])
    assert got == [tmp_path / "zh" / "a.xlf", tmp_path / "zh" / "b.po", tmp_path / "zh" / "sub" / "c.tmx",
                   data_dir, tmp_path / "zh" / "b.po", tmp_path / "plain.tsv"]
    assert expand_l10n_paths([tmp_path]) == [tmp_path / "zh" / "a.xlf", tmp_path / "zh" / "b.po",
                                             tmp_path / "zh" / "sub" / "c.tmx"]


def test_expand_pattern_without_match(tmp_path):
    with pytest.raises(UsageError, match="matches no file"):
        expand_l10n_paths([str(tmp_path / "*.xlf")])


def test_missing_toolkit_names_the_package(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "translate" else real(name, *a))
    with pytest.raises(UsageError, match=r"pip install 'translate-toolkit>=3.20'"):
        read_l10n(PO)
