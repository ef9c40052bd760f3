"""scripts/eval_open_calques.py: character-by-character renderings found from the dictionary alone."""

from __future__ import annotations

import pytest

from mtcheck.models.lexicon import Lexicon, parse_cedict
from tests.conftest import import_script

# A hand-written dictionary: 热血 has a literal gloss ("hot blood": 热 hot + 血 blood) and an
# idiomatic one no character renders ("endothermic"); 宣布 is a synonym compound (宣 and 布
# both "announce"), so one English word renders both characters.
MINI = """\
# CC-CEDICT
#! date=2024-01-02T00:00:00Z
熱 热 [re4] /hot/heat/
血 血 [xue4] /blood/
熱血 热血 [re4 xue4] /hot blood/endothermic/
宣 宣 [xuan1] /to declare/to announce/
布 布 [bu4] /cloth/to announce/
宣布 宣布 [xuan1 bu4] /to announce/to proclaim/
公司 公司 [gong1 si1] /company/
"""


@pytest.fixture(scope="module")
def mini() -> Lexicon:
    entries, simplified, version = parse_cedict(MINI.splitlines(), "mini.txt")
    return Lexicon(entries, simplified, name="mini", version=version)


@pytest.mark.parametrize(
    "source, mt, expected",
    [
        # two MT words, each one character's sense, "hot" from the literal gloss
        ("他们都是热血的年轻人。", "They are all hot-blooded young people.", [("热血", "hot-blooded")]),
        ("他们都是热血的年轻人。", "They are all passionate young people.", []),
        # the idiomatic gloss is in the MT: the word is rendered, whatever else is there
        ("他们都是热血的年轻人。", "They are hot-blooded, endothermic young people.", []),
        # one word ("announced") renders both characters: an ordinary translation
        ("公司宣布了新计划。", "The company announced a new plan.", []),
    ],
)
def test_open_calques(mini, source, mt, expected):
    script = import_script("eval_open_calques")
    got = script.open_calques(mini, source, mt)
    assert [(word, mt[a:b]) for a, b, word, _evidence in got] == expected
    for _a, _b, word, evidence in got:
        assert evidence.startswith(f"character by character, {word} is hot + blood")
