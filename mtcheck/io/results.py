"""Reading mtcheck's own JSON Lines results back, one record at a time.

A streamed job (:func:`mtcheck.jobs.run_job`, ``mtcheck score/check --out``)
writes segment records, document records, chunk markers and a final summary
to one JSON Lines file. The CI outputs of such a job (SARIF, JUnit, the gate
verdict, review annotations) are made afterwards by walking that file again,
so they never need the whole batch in memory: :func:`iter_segment_results`
yields :class:`~mtcheck.core.SegmentResult` objects lazily and
:func:`read_summary` reads the summary from the end of the file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterator

from mtcheck.core import SegmentResult
from mtcheck.errors import EncodingError, InputError

#: The last line is read from this many bytes before the end, doubling until a newline precedes it.
_TAIL_BYTES = 1 << 16


def iter_records(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line number, record)`` for every line of a results file.

    Raises:
        InputError: a line is not a JSON object with a ``record`` key.
    """
    path = Path(path)
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            try:
                record = json.loads(raw)
            except UnicodeDecodeError as exc:
                raise EncodingError(f"not valid UTF-8 at byte {exc.start} of the line; expected mtcheck's JSON "
                                    "Lines results", str(path), line=lineno) from None
            except ValueError as exc:
                raise InputError(f"not a JSON line ({exc.msg}); expected mtcheck's JSON Lines results",
                                 str(path), line=lineno) from None
            if not isinstance(record, dict) or "record" not in record:
                raise InputError("expected a JSON object with a 'record' key, as mtcheck writes",
                                 str(path), line=lineno)
            yield lineno, record


def iter_segment_results(path: str | Path) -> Iterator[SegmentResult]:
    """The segment results of a results file, in the order they were written.

    Raises:
        InputError: a line is not a result record, or a segment record lacks a field.
    """
    for lineno, record in iter_records(path):
        if record["record"] != "segment":
            continue
        try:
            yield SegmentResult.from_dict(record)
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"segment record cannot be read back ({type(exc).__name__}: {exc})",
                             str(path), line=lineno) from None


def read_summary(path: str | Path) -> dict[str, Any]:
    """The final ``summary`` record of a results file, read from its end.

    Raises:
        InputError: the file is empty or its last line is not a summary
            (the job did not finish).
    """
    path = Path(path)
    size = path.stat().st_size
    want = _TAIL_BYTES
    with open(path, "rb") as fh:
        while True:
            start = max(0, size - want)
            fh.seek(start)
            tail = fh.read()
            body = tail.rstrip(b"\n")
            cut = body.rfind(b"\n")
            if cut >= 0 or start == 0:
                last = body[cut + 1:]
                break
            want *= 2
    try:
        record = json.loads(last) if last else None
    except ValueError:
        record = None
    if not isinstance(record, dict) or record.get("record") != "summary":
        raise InputError("the last line is not a summary record: the job did not finish "
                         "(run it again with --resume)", os.fspath(path))
    return record
