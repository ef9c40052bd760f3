"""Shared test helpers: writing small input files and locating the shared WMT data."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("MTCHECK_SHARED_DATA", REPO.parent / "shared" / "mt-eval-zhen"))


#: The header of a Google MQM error file (``mt-eval-zhen/google_mqm_zhen``).
MQM_HEADER = "system\tdoc\tdoc_id\tseg_id\trater\tsource\ttarget\tcategory\tseverity\n"


def mqm_tsv(rows, header: str = MQM_HEADER) -> str:
    """The text of an MQM error file with these rows (tuples of fields)."""
    return header + "".join("\t".join(r) + "\n" for r in rows)


@pytest.fixture
def write(tmp_path):
    """Write text (str, utf-8) or bytes to a file under tmp_path and return its path."""

    def _write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return _write


def import_script(name: str):
    """Import ``scripts/<name>.py`` as a module (scripts import their siblings, so the folder goes on the path)."""
    folder = str(REPO / "scripts")
    sys.path.insert(0, folder)
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(folder)


needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=f"shared WMT data not found at {SHARED}")
