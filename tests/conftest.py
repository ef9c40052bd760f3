"""Shared test helpers: writing small input files and locating the shared WMT data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("MTCHECK_SHARED_DATA", REPO.parent / "shared" / "mt-eval-zhen"))


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


needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=f"shared WMT data not found at {SHARED}")
