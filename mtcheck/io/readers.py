"""Input formats and the dispatcher that picks one per file."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from mtcheck.core import FieldPos, Origin, Segment
from mtcheck.errors import EmptyInputError, InputError, LineCountMismatchError, MissingColumnsError, UsageError
from mtcheck.io.encoding import count_lines, iter_lines
from mtcheck.io.l10n import L10N_EXTENSIONS, L10N_FORMATS  # translate-toolkit itself loads lazily
from mtcheck.io.locate import csv_field_starts, json_string_value_starts, offset_to_position
from mtcheck.io.records import missing_keys, record_to_segment

FORMATS = ("text", "tsv", "csv", "jsonl", "json", "dataset", "docpair", *L10N_FORMATS)

_EXTENSIONS = {
    ".tsv": "tsv",
    ".tab": "tsv",
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".parquet": "dataset",
    ".arrow": "dataset",
    **L10N_EXTENSIONS,
}


def detect_format(path: str | Path) -> str:
    """The input format implied by ``path``'s extension (a directory is a dataset).

    Raises:
        UsageError: the extension is not one mtcheck reads.
    """
    p = Path(path)
    if p.is_dir():
        return "dataset"
    suffixes = [s.lower() for s in p.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".bz2", ".xz"):
        raise UsageError(f"{p}: compressed input is not read directly; decompress it first")
    fmt = _EXTENSIONS.get(suffixes[-1] if suffixes else "")
    if fmt is None:
        raise UsageError(
            f"{p}: cannot tell the format from the extension {p.suffix or '(none)'!r}; "
            f"expected one of {', '.join(sorted(_EXTENSIONS))} or pass --format "
            "(line-aligned text files are given with -s/-t)"
        )
    return fmt


def read_inputs(
    paths: Sequence[str | Path] = (),
    *,
    fmt: str | None = None,
    source: str | Path | None = None,
    mt: str | Path | None = None,
    refs: Sequence[str | Path] = (),
    encoding: str = "utf-8",
    aligner: str = "length",
) -> Iterator[Segment]:
    """Yield the segments of a batch, file after file.

    Either ``source`` and ``mt`` (line-aligned text, or a document pair with
    ``fmt="docpair"``) or one or more ``paths`` of tabular/JSON/dataset files.
    With several files, segment ids are prefixed with the file name so they
    stay unique.

    Raises:
        UsageError: inconsistent arguments or an unknown format.
        InputError: a file-level problem (see the subclasses).
    """
    if fmt is not None and fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if source is not None or mt is not None:
        if paths:
            raise UsageError("give either -s/-t files or input files, not both")
        if source is None or mt is None:
            raise UsageError("line-aligned input needs both a source (-s) and an MT (-t) file")
        if fmt == "docpair":
            from mtcheck.io.docpair import read_docpair

            if refs:
                raise UsageError("references are not supported with --format docpair (they are not line-aligned)")
            return read_docpair(source, mt, encoding=encoding, aligner=aligner)
        if fmt not in (None, "text"):
            raise UsageError(f"-s/-t take plain text files; --format {fmt} takes input files instead")
        return read_text(source, mt, refs, encoding=encoding)
    if refs:
        raise UsageError("-r/--ref goes with -s/-t; in tabular input put references in ref, ref2… columns")
    if not paths:
        raise UsageError("no input: give input files, or -s SOURCE -t MT for line-aligned text")
    from mtcheck.io.l10n import expand_l10n_paths

    return _chain(expand_l10n_paths(paths), fmt, encoding)


def id_prefixes(paths: Sequence[str | Path]) -> list[str]:
    """The prefix given to segment ids of each file of a batch.

    One file: no prefix. Several: ``name:``, or the path as given when two
    files share a name (``zh/messages.po`` and ``ja/messages.po``).
    """
    if len(paths) <= 1:
        return [""] * len(paths)
    names = [Path(p).name for p in paths]
    unique = len(set(names)) == len(names)
    return [f"{n}:" if unique else f"{Path(p).as_posix()}:" for n, p in zip(names, paths)]


def _chain(paths: Sequence[str | Path], fmt: str | None, encoding: str) -> Iterator[Segment]:
    """Segments of every file in turn.

    With several files, a file that cannot be read at all (broken XML, a
    missing column, bad encoding) becomes one failed segment naming the file
    and the problem, and the other files are still read; a single unreadable
    file is an error.
    """
    several = len(paths) > 1
    for path, prefix in zip(paths, id_prefixes(paths)):
        this_fmt = fmt or detect_format(path)
        if this_fmt in ("text", "docpair"):
            raise UsageError(f"--format {this_fmt} needs -s SOURCE -t MT, not input files")
        reader = _TABLE_READERS[this_fmt]
        try:
            for seg in reader(path, encoding=encoding):
                yield _prefixed(seg, prefix) if prefix else seg
        except InputError as exc:
            if not several:
                raise
            yield Segment(id=f"{prefix}(file)", source="", mt="", origin=Origin(str(path), exc.line),
                          problem=str(exc), metadata={"file_error": True})


def _prefixed(seg: Segment, prefix: str) -> Segment:
    from dataclasses import replace

    return replace(seg, id=f"{prefix}{seg.id}")


def read_text(
    source: str | Path, mt: str | Path, refs: Sequence[str | Path] = (), *, encoding: str = "utf-8"
) -> Iterator[Segment]:
    """Line-aligned plain text: line *n* of every file is segment *n*.

    Line counts are compared before anything is yielded, so a mismatch is
    reported up front with both files and both counts.
    """
    files = [Path(source), Path(mt), *map(Path, refs)]
    roles = ["source", "MT"] + [f"reference {i + 1}" for i in range(len(refs))]
    counts = [count_lines(f, encoding) for f in files]
    if counts[0] == 0:
        raise EmptyInputError("source file is empty; expected one segment per line", files[0])
    for f, role, n in zip(files[1:], roles[1:], counts[1:]):
        if n != counts[0]:
            for g in files:
                # Bytes are counted undecoded: a file in the wrong encoding (UTF-16 without a BOM
                # holds 0x0A inside characters) miscounts, and its encoding error is the real news.
                for _ in iter_lines(g, encoding):
                    pass
            raise LineCountMismatchError(
                f"line counts differ: source {files[0]} has {counts[0]} lines, {role} {f} has {n}; "
                "line-aligned files must have one line per segment"
            )
    return _zip_text(files, encoding)


def _zip_text(files: list[Path], encoding: str) -> Iterator[Segment]:
    iters = [iter_lines(f, encoding) for f in files]
    for rows in zip(*iters):
        lineno = rows[0][0]
        texts = [t for _, t in rows]
        yield Segment(
            id=str(lineno),
            source=texts[0],
            mt=texts[1],
            references=tuple(texts[2:]),
            doc=None,
            origin=Origin(
                str(files[1]), lineno,
                source_pos=FieldPos(str(files[0]), lineno, 1), mt_pos=FieldPos(str(files[1]), lineno, 1),
            ),
        )


def read_table(path: str | Path, *, encoding: str = "utf-8", delimiter: str | None = None) -> Iterator[Segment]:
    """TSV or CSV with a header row.

    TSV is read without quote processing (quotes are text, as in most MT
    tooling): a line is split at tabs, and any other character, a stray
    carriage return included, is text. CSV follows RFC 4180 quoting, so a
    quoted field may span lines (its line ends are read as ``\\n``). A row
    with the wrong number of fields, or a CSV record that cannot be parsed,
    becomes a failed segment. Fields may be of any length (a 1 MB segment
    is read like any other).
    """
    path = Path(path)
    if delimiter is None:
        delimiter = "," if path.suffix.lower() == ".csv" else "\t"
    lines = ((n, text + "\n") for n, text in iter_lines(path, encoding))
    numbered = _LineTracker(lines)
    if delimiter == "\t":
        reader: Iterator[list[str]] = (line[:-1].split("\t") if line != "\n" else [] for line in numbered)
    else:
        # csv's default field limit (128 KiB) would refuse a long segment; memory, not a field count, bounds it.
        csv.field_size_limit(max(csv.field_size_limit(), _CSV_FIELD_LIMIT))
        reader = csv.reader(numbered, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL, strict=False)
    try:
        header = next(reader)
    except StopIteration:
        raise EmptyInputError("file is empty; expected a header row with 'source' and 'mt'", path) from None
    except csv.Error as exc:
        raise InputError(f"malformed CSV header: {_csv_reason(exc)}", path, numbered.start) from None
    header_line = numbered.start
    numbered.record_done()
    header = [h.strip() for h in header]
    absent = missing_keys(header)
    if absent:
        raise MissingColumnsError(
            f"missing column(s) {', '.join(absent)}; header has {_names(header)}; "
            "expected at least 'source' and 'mt' (optional: id, doc, ref, ref2…)",
            path,
            header_line,
        )
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise InputError(f"duplicate column(s) {', '.join(dupes)} in the header", path, 1)
    rows = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # The record is lost to the parser but not to the batch: it becomes a failed segment.
            line = numbered.start
            raw_record = numbered.raw()
            numbered.record_done()
            rows += 1
            yield Segment(id=f"line{line}", source="", mt="", origin=Origin(str(path), line),
                          metadata={"raw": raw_record.rstrip("\n")},
                          problem=f"{path}:{line}: malformed CSV record: {_csv_reason(exc)}")
            continue
        line = numbered.start
        raw_record = numbered.raw()
        numbered.record_done()
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # a blank line holds no record
        rows += 1
        origin = Origin(str(path), line)
        if len(row) == len(header):
            origin = _table_origin(path, line, header, row, raw_record, delimiter)
        if len(row) != len(header):
            yield Segment(
                id=f"line{line}", source="", mt="", origin=origin,
                metadata={"raw": delimiter.join(row)},
                problem=f"{path}:{line}: expected {len(header)} fields ({', '.join(header)}), found {len(row)}",
            )
            continue
        seg = record_to_segment(dict(zip(header, row)), str(rows), origin, None)
        if seg.problem:
            seg = _with_location(seg, path, line)
        yield seg
    if rows == 0:
        raise EmptyInputError("file has a header but no rows", path)


_CSV_FIELD_LIMIT = 2**31 - 1


def _names(names: list[str], most: int = 20, width: int = 40) -> str:
    """Column names for an error message, bounded: a header line may be a megabyte of text."""
    shown = [repr(n if len(n) <= width else n[:width] + "…") for n in names[:most]]
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return ", ".join(shown) + more


def _csv_reason(exc: Exception) -> str:
    text = str(exc)
    if "new-line character" in text:
        return ("a line break (\\r) inside an unquoted field; expected the field in double quotes, "
                "or \\n / \\r\\n line ends")
    return text


class _LineTracker:
    """Feeds lines to ``csv.reader`` and remembers where the current record began."""

    def __init__(self, lines: Iterable[tuple[int, str]]):
        self._lines = iter(lines)
        self.start = 1
        self._next_is_start = True
        self._raw: list[str] = []

    def __iter__(self):
        return self

    def __next__(self) -> str:
        n, text = next(self._lines)
        if self._next_is_start:
            self.start = n
            self._next_is_start = False
            self._raw = []
        self._raw.append(text)
        return text

    def raw(self) -> str:
        """Raw text of the record just read (its physical lines joined)."""
        return "".join(self._raw)

    def record_done(self) -> None:
        self._next_is_start = True


def _table_origin(path: Path, line: int, header: list[str], row: list[str], raw: str, delimiter: str) -> Origin:
    """Origin with the positions of the source and MT fields of a TSV/CSV record."""
    if delimiter == "\t":
        # TSV is read without quoting, so the raw record is the fields joined by tabs.
        starts = []
        col = 0
        for field in row:
            starts.append((col, False))
            col += len(field) + 1
    else:
        starts = csv_field_starts(raw, delimiter)
        if len(starts) != len(row):
            return Origin(str(path), line)
    positions = {}
    for key in ("source", "mt"):
        offset, quoted = starts[header.index(key)]
        ln, col = offset_to_position(raw[:offset], line, 1)
        positions[key] = FieldPos(str(path), ln, col, "csv" if quoted else "none")
    return Origin(str(path), line, source_pos=positions["source"], mt_pos=positions["mt"])


def _with_location(seg: Segment, path: Path, line: int) -> Segment:
    from dataclasses import replace

    return replace(seg, problem=f"{path}:{line}: {seg.problem}")


def read_jsonl(path: str | Path, *, encoding: str = "utf-8") -> Iterator[Segment]:
    """JSON Lines: one object per line; a line that is not a JSON object becomes a failed segment."""
    path = Path(path)
    seen = 0
    first_checked = False
    for lineno, text in iter_lines(path, encoding):
        if not text.strip():
            continue
        seen += 1
        origin = Origin(str(path), lineno)
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            yield Segment(
                id=f"line{lineno}", source="", mt="", origin=origin, metadata={"raw": text},
                problem=f"{path}:{lineno}: invalid JSON at column {exc.colno}: {exc.msg}",
            )
            continue
        except (RecursionError, ValueError) as exc:  # nesting deeper than Python's stack, 4300-digit numbers
            yield Segment(
                id=f"line{lineno}", source="", mt="", origin=origin, metadata={"raw": text},
                problem=f"{path}:{lineno}: cannot read this JSON: {_json_limit(exc)}",
            )
            continue
        if not isinstance(record, dict):
            yield Segment(
                id=f"line{lineno}", source="", mt="", origin=origin, metadata={"raw": text},
                problem=f"{path}:{lineno}: expected a JSON object, found {type(record).__name__}",
            )
            continue
        if not first_checked:
            first_checked = True
            absent = missing_keys(list(record))
            if absent:
                raise MissingColumnsError(
                    f"missing key(s) {', '.join(absent)} in the first record; it has "
                    f"{_names(list(record)) or 'no keys'}; expected 'source' and 'mt'",
                    path, lineno,
                )
        starts = json_string_value_starts(text)
        pos = {k: FieldPos(str(path), lineno, starts[k][0] + 1, starts[k][1]) for k in ("source", "mt") if k in starts}
        origin = Origin(str(path), lineno, source_pos=pos.get("source"), mt_pos=pos.get("mt"))
        seg = record_to_segment(record, str(seen), origin, None)
        yield _with_location(seg, path, lineno) if seg.problem else seg
    if seen == 0:
        raise EmptyInputError("file holds no JSON records", path)


def read_json(path: str | Path, *, encoding: str = "utf-8") -> Iterator[Segment]:
    """A JSON array of objects (read whole; use JSONL for large batches)."""
    path = Path(path)
    text = "\n".join(t for _, t in iter_lines(path, encoding))
    if not text.strip():
        raise EmptyInputError("file is empty; expected a JSON array of objects", path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON at column {exc.colno}: {exc.msg}", path, exc.lineno) from None
    except (RecursionError, ValueError) as exc:
        raise InputError(f"cannot read this JSON: {_json_limit(exc)}", path) from None
    if isinstance(data, dict) and isinstance(data.get("segments"), list):
        data = data["segments"]
    if not isinstance(data, list):
        raise InputError("expected a JSON array of objects with 'source' and 'mt'", path)
    if not data:
        raise EmptyInputError("the JSON array is empty", path)
    for i, record in enumerate(data, start=1):
        origin = Origin(str(path), None)
        if not isinstance(record, dict):
            yield Segment(id=f"item{i}", source="", mt="", origin=origin,
                          problem=f"{path}: item {i}: expected an object, found {type(record).__name__}")
            continue
        seg = record_to_segment(record, str(i), origin, None)
        yield seg if not seg.problem else _with_item(seg, path, i)


def _json_limit(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "arrays or objects nested too deeply; expected flat objects with 'source' and 'mt'"
    return f"{exc}; expected numbers of ordinary size"


def _with_item(seg: Segment, path: Path, i: int) -> Segment:
    from dataclasses import replace

    return replace(seg, problem=f"{path}: item {i}: {seg.problem}")


def _read_dataset(path: str | Path, *, encoding: str = "utf-8") -> Iterator[Segment]:
    from mtcheck.io.dataset import read_dataset

    return read_dataset(path)


def _l10n_reader(fmt: str):
    def reader(path, *, encoding="utf-8"):
        from mtcheck.io.l10n import read_l10n

        return read_l10n(path, encoding=encoding, fmt=fmt)

    return reader


_TABLE_READERS = {
    "tsv": lambda p, encoding: read_table(p, encoding=encoding, delimiter="\t"),
    "csv": lambda p, encoding: read_table(p, encoding=encoding, delimiter=","),
    "jsonl": read_jsonl,
    "json": read_json,
    "dataset": _read_dataset,
    **{f: _l10n_reader(f) for f in L10N_FORMATS},
}
