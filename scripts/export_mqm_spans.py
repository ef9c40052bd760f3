#!/usr/bin/env python3
"""Write a WMT MQM test set as a batch to score and a human-span file for ``mtcheck eval --spans``.

    python scripts/export_mqm_spans.py --dataset newstest2021 --out /tmp/mqm21
    mtcheck score /tmp/mqm21/batch.jsonl --metrics '' --quiet --jsonl /tmp/mqm21/results.jsonl
    mtcheck eval --spans --human /tmp/mqm21/gold.jsonl --metric /tmp/mqm21/results.jsonl

``batch.jsonl`` has one record per (system, item) with an error-span annotation:
``id`` (``system:item``), ``doc`` (``system|doc``, so documents stay whole
per system), ``source``, ``mt`` and ``ref``. ``gold.jsonl`` has one record
per segment and rater, in the format of :mod:`mtcheck.metaeval.spanfiles`.
Only raters whose rows fit the dataset's MT text count (see
:mod:`mtcheck.metaeval.spans`). The files are written outside the
repository (the data may not be committed). Exits 0 with a message when the
shared data is absent.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _spans(marks):
    """Maximal runs of one severity, as span records."""
    out = []
    for k in sorted(marks):
        sev = marks[k]
        if out and out[-1]["end"] == k and out[-1]["severity"] == sev:
            out[-1]["end"] = k + 1
        else:
            out.append({"start": k, "end": k + 1, "severity": sev})
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", choices=("newstest2021", "ted", "newstest2020"), default="newstest2021")
    ap.add_argument("--out", type=Path, required=True, help="directory for batch.jsonl and gold.jsonl")
    ap.add_argument("--limit", type=int, default=0, help="only the first N segments (0 = all)")
    args = ap.parse_args(argv)
    if ROOT in args.out.resolve().parents or args.out.resolve() == ROOT:
        print("export_mqm_spans: --out must be outside the repository (the WMT data may not be committed)")
        return 2

    from mtcheck.errors import DataUnavailableError
    from mtcheck.metaeval import loaders
    from mtcheck.metaeval.spans import rater_marks

    try:
        base = loaders.shared_data_dir()
    except DataUnavailableError as exc:
        print(f"export_mqm_spans: skipped: {exc}")
        return 0
    load = {"newstest2021": loaders.load_mqm_newstest2021, "ted": loaders.load_mqm_ted,
            "newstest2020": loaders.load_mqm_newstest2020}[args.dataset]
    ds = load(base)
    errors = loaders.mqm_errors(args.dataset, base)
    items = [it for it in ds.items if it.source and it.mt]
    chosen = {(it.system, it.item): it.mt for it in items}
    marks = rater_marks(errors.path, chosen, rename=errors.rename, segid_map=errors.segid_map)
    items = [it for it in items if (it.system, it.item) in marks]
    if args.limit:
        items = items[:args.limit]
    args.out.mkdir(parents=True, exist_ok=True)
    # JSON Lines, not TSV: MT outputs hold quotes, which TSV keeps literally and CSV would rewrite.
    with open(args.out / "batch.jsonl", "w", encoding="utf-8") as fh:
        for it in items:
            fh.write(json.dumps({"id": f"{it.system}:{it.item}", "doc": f"{it.system}|{it.doc}", "source": it.source,
                                 "mt": it.mt, "ref": it.references[0] if it.references else ""},
                                ensure_ascii=False) + "\n")
    n_records = 0
    with open(args.out / "gold.jsonl", "w", encoding="utf-8") as fh:
        for it in items:
            for rater, m in sorted(marks[(it.system, it.item)].items()):
                fh.write(json.dumps({"id": f"{it.system}:{it.item}", "mt": it.mt, "rater": rater,
                                     "spans": _spans(m)}, ensure_ascii=False) + "\n")
                n_records += 1
    print(f"wrote {args.out / 'batch.jsonl'} ({len(items)} segments) and {args.out / 'gold.jsonl'} "
          f"({n_records} rater records)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
