"""Readers that turn input files into a stream of :class:`~mtcheck.core.Segment`.

Supported inputs (format picked from the extension, overridable):

* ``text``: line-aligned plain text files, source / MT / references, as
  sacrebleu and COMET take them;
* ``tsv`` / ``csv``: a header with ``source``, ``mt``, optional ``ref``,
  ``ref2``…, ``id``, ``doc``; further columns become metadata;
* ``jsonl`` (and ``json``, an array): objects with the same keys;
* ``dataset``: Parquet/Arrow/JSONL files or a local dataset directory read
  through the ``datasets`` library, streamed;
* ``docpair``: a Chinese document and its English MT that are not
  line-aligned; sentences are split and aligned.

Readers yield segments lazily. A record that cannot be read becomes a
segment with ``problem`` set, so one bad line never hides the others.
"""

from __future__ import annotations

from mtcheck.io.readers import FORMATS, detect_format, read_inputs

__all__ = ["FORMATS", "detect_format", "read_inputs"]
