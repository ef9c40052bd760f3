"""Parquet/Arrow/JSONL files and local dataset directories through ``datasets``.

Files are opened with ``streaming=True`` so rows are read in chunks and a
batch larger than memory still streams. A directory written by
``Dataset.save_to_disk`` is memory-mapped by ``load_from_disk`` (Arrow files
are not loaded into RAM). Rows follow the TSV/JSONL schema
(:mod:`mtcheck.io.records`). ``datasets`` is imported here only, so the CLI
stays fast for other formats.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from mtcheck.core import Origin, Segment
from mtcheck.errors import EmptyInputError, InputError, MissingColumnsError
from mtcheck.io.records import missing_keys, record_to_segment

_BUILDERS = {".parquet": "parquet", ".arrow": "arrow", ".jsonl": "json", ".json": "json", ".csv": "csv"}


def read_dataset(path: str | Path, *, split: str = "train") -> Iterator[Segment]:
    """Yield segments from a data file or a local dataset directory.

    Args:
        path: A ``.parquet``/``.arrow``/``.jsonl`` file, a directory saved with
            ``save_to_disk``, or a directory of such data files.
        split: Which split to read when the dataset has several.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("no such file or directory", path)
    rows = _guarded(_open_rows(path, split), path)
    n = 0
    columns_checked = False
    for n, row in enumerate(rows, start=1):
        if not columns_checked:
            columns_checked = True
            absent = missing_keys(list(row))
            if absent:
                raise MissingColumnsError(
                    f"missing column(s) {', '.join(absent)}; dataset has {', '.join(repr(k) for k in row)}",
                    path,
                )
        seg = record_to_segment(row, str(n), Origin(str(path), n), None)
        if seg.problem:
            from dataclasses import replace

            seg = replace(seg, problem=f"{path}: row {n}: {seg.problem}")
        yield seg
    if n == 0:
        raise EmptyInputError("dataset has no rows", path)


def _one_line(exc: Exception) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def _guarded(rows, path: Path):
    """``rows``, with a failure while decoding them (a corrupt Parquet page) turned into an InputError.

    Streaming means a file whose footer is intact fails only when the bad page
    is reached, long after opening succeeded.
    """
    n = 0
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except Exception as exc:  # pyarrow/datasets raise OSError, ArrowInvalid, ValueError… for corrupt data
            raise InputError(f"cannot read row {n + 1} of the dataset: {_one_line(exc)}", path) from None
        n += 1
        yield row


def _open_rows(path: Path, split: str):
    import logging

    import datasets

    datasets.disable_progress_bars()
    logging.getLogger("datasets").setLevel(logging.ERROR)
    try:
        if path.is_dir() and any((path / f).exists() for f in ("dataset_info.json", "dataset_dict.json")):
            ds = datasets.load_from_disk(str(path))
            if isinstance(ds, datasets.DatasetDict):
                ds = _pick_split(ds, split, path)
            return iter(ds)
        if path.is_dir():
            ds = datasets.load_dataset(str(path), streaming=True)
        else:
            builder = _BUILDERS.get(path.suffix.lower())
            if builder is None:
                raise InputError(
                    f"cannot read {path.suffix!r} as a dataset; expected one of {', '.join(sorted(_BUILDERS))}",
                    path,
                )
            ds = datasets.load_dataset(builder, data_files=str(path), streaming=True)
        return iter(_pick_split(ds, split, path))
    except (InputError, MissingColumnsError):
        raise
    except Exception as exc:  # datasets raises many unrelated types for unreadable data
        raise InputError(f"cannot read as a dataset: {_one_line(exc)}", path) from None


def _pick_split(ds, split: str, path: Path):
    names = list(ds.keys())
    if split in names:
        return ds[split]
    if len(names) == 1:
        return ds[names[0]]
    raise InputError(f"dataset has splits {', '.join(names)}; none is {split!r}", path)
