"""Readers for the shared WMT zh→en human judgements (``mt-eval-zhen``).

The data lives outside the repository (research licences forbid committing
it). Its location is ``$MTCHECK_SHARED_DATA`` or, by default,
``<repo>/../shared/mt-eval-zhen``; when it is missing every loader raises
:class:`~mtcheck.errors.DataUnavailableError` naming the path it looked at.

Each loader returns a :class:`JudgedDataset`: one :class:`JudgedItem` per
rated ``(system, item)``, with the texts a metric needs and the human score.

How the Google MQM files are read (checked against the files; the README of
the data describes the columns):

* Scores come from the ``*.avg_seg_scores.tsv`` files (``None`` = not rated).
  Texts come from the error files, where each row repeats the source and the
  target with the error span wrapped in ``<v>…</v>``; the tags are removed.
* The rows of one item do not always carry the same text: whitespace moves
  around the tags, and in newstest2020 raters' post-edit fragments were
  pasted into the target (the README's caveat; e.g. a phrase appears twice).
  Fragments only ever *add* characters, so we take the **shortest** tag-free
  variant (ties: the most frequent, then the first in the file). Where that
  variant is not a character subsequence of every other variant the choice is
  uncertain, and the item's ``metadata["text_uncertain"]`` is ``True`` (also
  when its reference's text is uncertain). When this was written that held
  for 311 of newstest2020's 20,000 items' own texts (520 of the 18,000
  non-reference items counting uncertain references), for 3 newstest2021
  items (whitespace next to tags) and for no TED item.
* System names follow the score files. The newstest2021 error file writes
  ``hyp.X``/``ref.A``/``ref.B`` for ``X``/``ref-A``/``ref-B``; the TED error
  file writes ``ref``/``refB`` for ``ref-A``/``ref-B``. Both mappings were
  verified by recomputing every item's MQM score from its error rows (Major 5,
  Minor 1, Minor punctuation 0.1, non-translation 25), which reproduces the
  score file for every item under these mappings and not under the swapped
  TED mapping.
* The reference is the first human translation (newstest2021 ``ref-A``, TED
  ``ref-A`` = ``ref``, newstest2020 ``Human-A.0``), taken from the same MQM
  file so that it is normalised like the outputs (the official newstest2021
  reference differs in quote characters on 139 of the 650 rated segments).
  Its own rows are left out of the dataset unless asked for; the second human
  translation stays in as a system, as in WMT's MQM evaluations.
"""

from __future__ import annotations

import gzip
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from mtcheck.errors import DataUnavailableError, EncodingError, InputError, MissingColumnsError

ENV_VAR = "MTCHECK_SHARED_DATA"

_MQM_COLUMNS = ("system", "doc", "doc_id", "seg_id", "rater", "source", "target", "category", "severity")
_TAG = re.compile(r"</?v>")


@dataclass(frozen=True)
class JudgedItem:
    """One system's output for one item, with its human score.

    Attributes:
        system: System name as in the human score file.
        item: Segment id: the line number (1-based) in the test set, for
            newstest2021 after mapping the MQM file's local ids.
        doc: Document id, where the data has one.
        source: Chinese source, or ``None`` where the data has no text.
        mt: The system's English output, or ``None`` where the data has no text.
        references: Reference translations (empty where none is known).
        human: Human score (MQM: 0 best, negative worse; DA: z or raw score);
            ``None`` = not rated.
        metadata: Loader-specific details (raters, text variants, ...).
    """

    system: str
    item: int
    doc: str | None
    source: str | None
    mt: str | None
    references: tuple[str, ...]
    human: float | None
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JudgedDataset:
    """The judged items of one evaluation campaign.

    Attributes:
        name: Short name, e.g. ``"newstest2021-mqm"``.
        human_score: What ``JudgedItem.human`` is.
        items: The items, ordered by system then item.
        reference_system: The system whose output serves as the reference
            (and is left out of ``items`` unless the loader was asked to keep
            it), or ``None``.
        notes: How the data was read, for reports.
    """

    name: str
    human_score: str
    items: tuple[JudgedItem, ...]
    reference_system: str | None = None
    notes: str = ""

    @property
    def systems(self) -> tuple[str, ...]:
        return tuple(sorted({it.system for it in self.items}))

    @property
    def item_ids(self) -> tuple[int, ...]:
        return tuple(sorted({it.item for it in self.items}))

    def human_scores(self) -> dict[tuple[str, int], float | None]:
        """``(system, item) -> human score``, the input of :mod:`mtcheck.metaeval.stats`."""
        return {(it.system, it.item): it.human for it in self.items}

    def by_system(self) -> dict[str, list[JudgedItem]]:
        out: dict[str, list[JudgedItem]] = {}
        for it in self.items:
            out.setdefault(it.system, []).append(it)
        return out


# ---------------------------------------------------------------------------
# Locating the data


def shared_data_dir(path: str | Path | None = None) -> Path:
    """The ``mt-eval-zhen`` directory.

    Args:
        path: Explicit location; default ``$MTCHECK_SHARED_DATA`` or
            ``<repo>/../shared/mt-eval-zhen``.

    Raises:
        DataUnavailableError: The directory does not exist.
    """
    if path is None:
        env = os.environ.get(ENV_VAR)
        path = env if env else Path(__file__).resolve().parents[2].parent / "shared" / "mt-eval-zhen"
    root = Path(path)
    if not root.is_dir():
        raise DataUnavailableError(
            f"shared zh-en judgement data not found at {root} "
            f"(set {ENV_VAR} to the mt-eval-zhen directory)"
        )
    return root


def _need(root: Path, relative: str) -> Path:
    p = root / relative
    if not p.is_file():
        raise DataUnavailableError(f"expected data file {p} is missing")
    return p


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` of a UTF-8 (optionally gzipped) file, without line ends.

    Splits on ``\\n`` only: MQM texts may contain other Unicode line
    separators that must stay inside their field.
    """
    raw = gzip.open(path, "rb").read() if path.suffix == ".gz" else path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    chunks = raw.split(b"\n")
    if chunks and chunks[-1] == b"":
        chunks.pop()
    for number, chunk in enumerate(chunks, start=1):
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise EncodingError(f"not valid UTF-8 at byte {exc.start} of the line", path, number) from None
        yield number, text.removesuffix("\r")


def _number(text: str, path: Path, line: int, what: str) -> float | None:
    if text in ("None", "NA", "nan", "NaN", ""):
        return None
    try:
        return float(text)
    except ValueError:
        raise InputError(f"{what} {text!r} is not a number", path, line) from None


def _integer(text: str, path: Path, line: int, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InputError(f"{what} {text!r} is not an integer", path, line) from None


# ---------------------------------------------------------------------------
# Google MQM files


def read_mqm_scores(path: Path) -> dict[tuple[str, int], float | None]:
    """An ``avg_seg_scores`` file: whitespace-separated ``system mqm_avg_score seg_id``."""
    out: dict[tuple[str, int], float | None] = {}
    lines = _lines(path)
    header = next(lines, None)
    if header is None or header[1].split() != ["system", "mqm_avg_score", "seg_id"]:
        raise MissingColumnsError("expected the header 'system mqm_avg_score seg_id'", path, 1)
    for number, text in lines:
        if not text.strip():
            continue
        fields = text.split()
        if len(fields) != 3:
            raise InputError(f"expected 3 whitespace-separated fields, found {len(fields)}", path, number)
        system, score, seg = fields
        key = (system, _integer(seg, path, number, "seg_id"))
        if key in out:
            raise InputError(f"duplicate score for system {system!r}, segment {key[1]}", path, number)
        out[key] = _number(score, path, number, "score")
    return out


@dataclass
class MqmRows:
    """The texts and raters of one item's error rows (filled while reading)."""

    doc: str
    doc_id: str
    sources: Counter = field(default_factory=Counter)
    targets: Counter = field(default_factory=Counter)
    raters: set = field(default_factory=set)


def mqm_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """``(line number, fields)`` of every row of a Google MQM error file, its header checked.

    Raises:
        MissingColumnsError: the header is not the MQM files' header.
        InputError: a row has another number of fields (with its line).
    """
    lines = _lines(path)
    header = next(lines, None)
    if header is None or tuple(header[1].split("\t")) != _MQM_COLUMNS:
        raise MissingColumnsError(f"expected the tab-separated header {' '.join(_MQM_COLUMNS)}", path, 1)
    for number, text in lines:
        fields = text.split("\t")
        if len(fields) != len(_MQM_COLUMNS):
            raise InputError(f"expected {len(_MQM_COLUMNS)} tab-separated fields, found {len(fields)}", path, number)
        yield number, fields


def read_mqm_texts(path: Path) -> dict[tuple[str, int], MqmRows]:
    """Group the rows of an MQM error file by ``(system as written, seg_id)``."""
    out: dict[tuple[str, int], MqmRows] = {}
    for number, fields in mqm_rows(path):
        system, doc, doc_id, seg, rater, source, target = fields[:7]
        key = (system, _integer(seg, path, number, "seg_id"))
        entry = out.get(key)
        if entry is None:
            entry = out[key] = MqmRows(doc, doc_id)
        # Counter keeps first-insertion order, which breaks ties below.
        entry.sources[_TAG.sub("", source)] += 1
        entry.targets[_TAG.sub("", target)] += 1
        entry.raters.add(rater)
    return out


def choose_text(variants: Counter) -> tuple[str, bool]:
    """The shortest variant (ties: most frequent, then first seen), and whether it is uncertain.

    Uncertain = the chosen text is not a character subsequence of every other
    variant, i.e. the variants differ by more than inserted fragments.
    """
    order = {text: k for k, text in enumerate(variants)}
    best = min(variants, key=lambda t: (len(t), -variants[t], order[t]))
    uncertain = any(not _is_subsequence(best, other) for other in variants if other != best)
    return best, uncertain


def _is_subsequence(short: str, long: str) -> bool:
    rest = iter(long)
    return all(ch in rest for ch in short)


def _mqm_dataset(
    *,
    name: str,
    scores_path: Path,
    errors_path: Path,
    rename: Callable[[str], str],
    reference_system: str,
    include_reference_system: bool,
    segid_map: Mapping[int, int] | None = None,
    notes: str,
) -> JudgedDataset:
    scores = read_mqm_scores(scores_path)
    texts: dict[tuple[str, int], MqmRows] = {}
    for (system, seg), entry in read_mqm_texts(errors_path).items():
        if segid_map is not None:
            if seg not in segid_map:
                raise InputError(f"seg_id {seg} of system {system!r} is not in the segment id map", errors_path)
            seg = segid_map[seg]
        texts[(rename(system), seg)] = entry

    chosen: dict[tuple[str, int], tuple[str, str, bool, bool]] = {}
    for key, entry in texts.items():
        source, src_unsure = choose_text(entry.sources)
        target, tgt_unsure = choose_text(entry.targets)
        chosen[key] = (source, target, src_unsure, tgt_unsure)

    keys = {k for k, v in scores.items() if v is not None} | set(texts)
    items = []
    for system, seg in sorted(keys, key=lambda k: (k[0], k[1])):
        if system == reference_system and not include_reference_system:
            continue
        entry = texts.get((system, seg))
        ref = chosen.get((reference_system, seg))
        source = mt = None
        meta: dict[str, Any] = {}
        if entry is not None:
            source, mt, src_unsure, tgt_unsure = chosen[(system, seg)]
            meta = {
                "doc_id": entry.doc_id,
                "raters": tuple(sorted(entry.raters)),
                "target_variants": len(entry.targets),
                "text_uncertain": tgt_unsure or src_unsure or (ref is not None and ref[3]),
            }
        items.append(
            JudgedItem(
                system=system,
                item=seg,
                doc=entry.doc if entry is not None else None,
                source=source,
                mt=mt,
                references=(ref[1],) if ref is not None else (),
                human=scores.get((system, seg)),
                metadata=meta,
            )
        )
    return JudgedDataset(name, "MQM (0 = no error, higher is better)", tuple(items), reference_system, notes)


def _read_segid_map(path: Path) -> dict[int, int]:
    lines = _lines(path)
    header = next(lines, None)
    if header is None or header[1].split("\t")[:2] != ["local_seg_id", "global_seg_id"]:
        raise MissingColumnsError("expected the header local_seg_id<TAB>global_seg_id", path, 1)
    out: dict[int, int] = {}
    for number, text in lines:
        fields = text.split("\t")
        if len(fields) < 2:
            raise InputError("expected local_seg_id<TAB>global_seg_id", path, number)
        out[_integer(fields[0], path, number, "local_seg_id")] = _integer(fields[1], path, number, "global_seg_id")
    return out


def _rename_newstest2021(name: str) -> str:
    if name in ("ref.A", "ref.B"):
        return "ref-" + name[-1]
    return name.removeprefix("hyp.")


def _rename_ted(name: str) -> str:
    return {"ref": "ref-A", "refB": "ref-B"}.get(name, name)


@dataclass(frozen=True)
class MqmErrors:
    """Where a campaign's MQM error rows are and how they map onto its dataset.

    Attributes:
        path: The Google MQM error file (``<v>…</v>`` spans per rater).
        rename: The file's system names to the dataset's.
        segid_map: The file's seg ids to the dataset's item ids, where they differ.
    """

    path: Path
    rename: Callable[[str], str]
    segid_map: Mapping[int, int] | None = None


def mqm_errors(campaign: str, root: str | Path | None = None) -> MqmErrors:
    """The error file of ``newstest2020``, ``newstest2021`` or ``ted``, as its loader reads it.

    Raises:
        DataUnavailableError: the shared data is not there.
        UsageError: an unknown campaign.
    """
    from mtcheck.errors import UsageError

    base = shared_data_dir(root)
    d = "google_mqm_zhen/"
    if campaign == "newstest2020":
        return MqmErrors(_need(base, d + "mqm_newstest2020_zhen.tsv.gz"), lambda name: name)
    if campaign == "newstest2021":
        return MqmErrors(_need(base, d + "mqm_newstest2021_zhen.tsv"), _rename_newstest2021,
                         _read_segid_map(_need(base, d + "mqm_newstest2021_zhen.segid_map.tsv")))
    if campaign == "ted":
        return MqmErrors(_need(base, d + "mqm_ted_zhen.tsv"), _rename_ted)
    raise UsageError(f"unknown MQM campaign {campaign!r}; expected newstest2020, newstest2021 or ted")


def load_mqm_newstest2021(root: str | Path | None = None, *, include_reference_system: bool = False) -> JudgedDataset:
    """newstest2021 zh→en, Google MQM: 15 systems (incl. ``ref-A``, ``ref-B``) × 650 segments.

    Item ids are global newstest2021 line numbers (via ``segid_map``). The
    reference is ``ref-A``; its rows are dropped unless
    ``include_reference_system``.
    """
    # The score file first: a missing campaign is named by it, as before.
    scores_path = _need(shared_data_dir(root), "google_mqm_zhen/mqm_newstest2021_zhen.avg_seg_scores.tsv")
    errors = mqm_errors("newstest2021", root)
    return _mqm_dataset(
        name="newstest2021-mqm",
        scores_path=scores_path,
        errors_path=errors.path,
        rename=errors.rename,
        reference_system="ref-A",
        include_reference_system=include_reference_system,
        segid_map=errors.segid_map,
        notes="texts and reference (ref-A) from the MQM error file; seg ids mapped to global line numbers",
    )


def load_mqm_ted(root: str | Path | None = None, *, include_reference_system: bool = False) -> JudgedDataset:
    """WMT21 TED talks zh→en, Google MQM: 15 systems × 529 rated segments.

    The error file's ``ref``/``refB`` are the score file's ``ref-A``/``ref-B``;
    ``ref-A`` is the reference.
    """
    # The score file first: a missing campaign is named by it, as before.
    scores_path = _need(shared_data_dir(root), "google_mqm_zhen/mqm_ted_zhen.avg_seg_scores.tsv")
    errors = mqm_errors("ted", root)
    return _mqm_dataset(
        name="ted-mqm",
        scores_path=scores_path,
        errors_path=errors.path,
        rename=errors.rename,
        reference_system="ref-A",
        include_reference_system=include_reference_system,
        notes="texts and reference (ref-A, written 'ref' in the error file) from the MQM error file",
    )


def load_mqm_newstest2020(root: str | Path | None = None, *, include_reference_system: bool = False) -> JudgedDataset:
    """newstest2020 zh→en, Google MQM: 10 systems (incl. ``Human-A.0``/``Human-B.0``) × 2,000 segments, 3 raters.

    ``Human-A.0`` is the reference. Texts carry raters' post-edit fragments
    in some rows; see the module docstring for how one text is chosen and
    ``metadata["text_uncertain"]``.
    """
    # The score file first: a missing campaign is named by it, as before.
    scores_path = _need(shared_data_dir(root), "google_mqm_zhen/mqm_newstest2020_zhen.avg_seg_scores.tsv")
    errors = mqm_errors("newstest2020", root)
    return _mqm_dataset(
        name="newstest2020-mqm",
        scores_path=scores_path,
        errors_path=errors.path,
        rename=errors.rename,
        reference_system="Human-A.0",
        include_reference_system=include_reference_system,
        notes="texts and reference (Human-A.0) from the MQM error file; shortest tag-free variant per item",
    )


# ---------------------------------------------------------------------------
# WMT Direct Assessment

_DA_SCORE_COLUMNS = {"z": "Z.SCR", "raw": "RAW.SCR"}


def read_da_scores(path: Path, score: str = "z") -> dict[tuple[str, int], tuple[float, int]]:
    """An ``ad-seg-scores`` file: space-separated ``SYS SID RAW.SCR Z.SCR N``.

    Returns:
        ``(system, SID) -> (score, number of ratings averaged)``.
    """
    if score not in _DA_SCORE_COLUMNS:
        raise ValueError(f"score must be one of {sorted(_DA_SCORE_COLUMNS)}, got {score!r}")
    lines = _lines(path)
    header = next(lines, None)
    columns = header[1].split() if header else []
    needed = ["SYS", "SID", _DA_SCORE_COLUMNS[score], "N"]
    missing = [c for c in needed if c not in columns]
    if missing:
        raise MissingColumnsError(f"missing column(s) {', '.join(missing)} in the header", path, 1)
    pos = [columns.index(c) for c in needed]
    out: dict[tuple[str, int], tuple[float, int]] = {}
    for number, text in lines:
        fields = text.split()
        if not fields:
            continue
        if len(fields) != len(columns):
            raise InputError(f"expected {len(columns)} fields, found {len(fields)}", path, number)
        system, sid, value, n = (fields[p] for p in pos)
        key = (system, _integer(sid, path, number, "SID"))
        if key in out:
            raise InputError(f"duplicate score for system {system!r}, SID {key[1]}", path, number)
        parsed = _number(value, path, number, needed[2])
        if parsed is None:
            continue
        out[key] = (parsed, _integer(n, path, number, "N"))
    return out


def _read_plain(path: Path) -> list[str]:
    return [text for _, text in _lines(path)]


_SUBMISSION_ID = re.compile(r"\.\d+$")


def load_da_wmt21(root: str | Path | None = None, *, score: str = "z") -> JudgedDataset:
    """WMT21 newstest2021 zh→en crowd DA scores with texts from ``wmt_testsets_zhen``.

    DA system names carry a submission id (``XMU.17``); the system output
    file is ``newstest2021.zh-en.hyp.XMU.en``. ``HUMAN`` has no text in the
    shared data (``mt`` is ``None``). The reference is the official
    reference A; documents are not available in these files (``doc`` is ``None``).

    Args:
        score: ``"z"`` (standardised per rater, what WMT ranks by) or ``"raw"`` (0–100).
    """
    base = shared_data_dir(root)
    scores = read_da_scores(_need(base, "wmt_da_zhen/wmt21/ad-seg-scores-zh-en.csv"), score)
    txt = "wmt_testsets_zhen/newstest2021/txt/"
    sources = _read_plain(_need(base, txt + "sources/newstest2021.zh-en.src.zh"))
    refs = _read_plain(_need(base, txt + "references/newstest2021.zh-en.ref.A.en"))
    outputs: dict[str, list[str] | None] = {}
    items = []
    for (da_system, sid), (value, n) in sorted(scores.items()):
        system = _SUBMISSION_ID.sub("", da_system)
        if system not in outputs:
            hyp = base / txt / "system-outputs" / f"newstest2021.zh-en.hyp.{system}.en"
            outputs[system] = _read_plain(hyp) if hyp.is_file() else None
        hyps = outputs[system]
        if not 1 <= sid <= len(sources):
            raise InputError(f"SID {sid} is outside the {len(sources)} test set lines", base / txt)
        items.append(
            JudgedItem(
                system=system,
                item=sid,
                doc=None,
                source=sources[sid - 1],
                mt=hyps[sid - 1] if hyps is not None and sid <= len(hyps) else None,
                references=(refs[sid - 1],) if sid <= len(refs) else (),
                human=value,
                metadata={"da_system": da_system, "ratings": n},
            )
        )
    return JudgedDataset(
        "newstest2021-da",
        f"WMT DA {'z-score' if score == 'z' else 'raw score (0-100)'}",
        tuple(items),
        None,
        "texts from wmt_testsets_zhen/newstest2021 (reference A); HUMAN has no text",
    )


def load_da_wmt20(root: str | Path | None = None, *, score: str = "z") -> JudgedDataset:
    """WMT20 newstest2020 zh→en crowd DA scores, **without texts**.

    The shared data has no newstest2020 system outputs apart from the ten MQM
    systems; this loader returns scores and documents only (``source``,
    ``mt`` are ``None``, no references). Documents come from
    ``newstest2020.zh-en.details.txt`` (``SID``, test set, pair, doc, position).
    """
    base = shared_data_dir(root)
    scores = read_da_scores(_need(base, "wmt_da_zhen/wmt20/ad-seg-scores-zh-en.csv"), score)
    details = _need(base, "wmt_da_zhen/wmt20/newstest2020.zh-en.details.txt")
    docs: dict[int, str] = {}
    for number, text in _lines(details):
        fields = text.split("\t")
        if len(fields) < 4:
            raise InputError(f"expected at least 4 tab-separated fields, found {len(fields)}", details, number)
        docs[_integer(fields[0], details, number, "SID")] = fields[3]
    items = tuple(
        JudgedItem(system, sid, docs.get(sid), None, None, (), value, {"ratings": n})
        for (system, sid), (value, n) in sorted(scores.items())
    )
    return JudgedDataset(
        "newstest2020-da",
        f"WMT DA {'z-score' if score == 'z' else 'raw score (0-100)'}",
        items,
        None,
        "scores only: no newstest2020 texts in the shared data except the MQM systems",
    )


LOADERS = {
    "newstest2021-mqm": load_mqm_newstest2021,
    "ted-mqm": load_mqm_ted,
    "newstest2020-mqm": load_mqm_newstest2020,
    "newstest2021-da": load_da_wmt21,
    "newstest2020-da": load_da_wmt20,
}
