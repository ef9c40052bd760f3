"""Seconds each rule check takes on one pathological long segment, at two sizes.

A segment can be a whole document pasted on one line or a table dump; a check
whose cost grows with the square of the segment turns that into minutes or
hours. This benchmark builds one segment per input *kind* at two sizes
(default 100,000 and 1,000,000 characters per side, i.e. 100 KB and 1 MB of
code points) and times each check on it through
:func:`mtcheck.checks.run_checks` (segment and document level, span merging
included). A linear check shows a ratio of about 10 between the two sizes; a
quadratic one about 100.

Kinds (source / MT, each repeated and cut to the size):

* ``numbers``: ``第1季度营收350.19亿元，同比增长12.5%；`` / its English;
* ``dates``: ``2021年11月11日至12月31日，`` / its English;
* ``han``: Han characters only, no punctuation, on both sides (an MT that
  copied the source);
* ``latin``: Latin words and spaces only, on both sides;
* ``punct``: punctuation only, Chinese on the source side, ASCII on the MT side;
* ``placeholders``: ``{0}``, ``%s``, ``<b>…</b>``, ``{{name}}`` on both sides;
* ``glossary``: every term of the packaged glossary, in turn, with its
  preferred rendering in the MT.

Each measurement runs in a forked child so that one that runs away can be
stopped at ``--timeout`` seconds (printed as ``>T``) without the others
waiting. Run it on an otherwise idle machine: the figures are wall-clock.

Usage::

    python scripts/bench_long_segments.py                      # every check, kind and both sizes
    python scripts/bench_long_segments.py --checks numbers,dates --kinds numbers --sizes 100000
    python scripts/bench_long_segments.py --timeout 300 --json out/bench/long-segments.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

KINDS = ("numbers", "dates", "han", "latin", "punct", "placeholders", "glossary")
DEFAULT_SIZES = (100_000, 1_000_000)


def _units(kind: str) -> tuple[str, str]:
    """One repeating unit of source and MT text for ``kind``."""
    if kind == "numbers":
        return "第1季度营收350.19亿元，同比增长12.5%；", "Q1 revenue was 35.019 billion yuan, up 12.5% year on year; "
    if kind == "dates":
        return "2021年11月11日至12月31日，", "from November 11 to December 31, 2021, "
    if kind == "han":
        unit = "营收增长同比上升双十一成交额创新高阿里巴巴集团发布财报"
        return unit, unit
    if kind == "latin":
        unit = "Revenue grew year on year and sales hit a record high in the quarter "
        return unit, unit
    if kind == "punct":
        return "，。！？、；：“”‘’（）《》【】…—", ",.!?;:\"'()[]-…"
    if kind == "placeholders":
        return ("请点击{0}查看%s的<b>订单</b>{{name}}，", "Click {0} to view the <b>order</b> of %s {{name}}, ")
    if kind == "glossary":
        from mtcheck.checks.glossary import default_glossary

        entries = default_glossary().entries
        return "，".join(e.zh for e in entries) + "。", ", ".join(e.en[0] for e in entries) + ". "
    raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")


def make_segment(kind: str, size: int) -> tuple[str, str]:
    """Source and MT of ``size`` characters each, made of ``kind``'s unit repeated."""
    zh, en = _units(kind)
    return (zh * (size // len(zh) + 1))[:size], (en * (size // len(en) + 1))[:size]


def _measure(check_name: str, source: str, mt: str, conn) -> None:
    """In the child: time one check on one segment and send (seconds, findings) back."""
    from mtcheck.checks import get_checks, run_checks
    from mtcheck.config import CheckOptions
    from mtcheck.core import Segment

    seg = Segment("1", source, mt, (mt,))
    start = time.perf_counter()
    found = run_checks(get_checks([check_name]), [seg], CheckOptions())
    conn.send((time.perf_counter() - start, len(found.get("1", []))))
    conn.close()


def measure(check_name: str, source: str, mt: str, timeout: float) -> tuple[float | None, int | None]:
    """``(seconds, findings)`` of one check on one segment; ``(None, None)`` past ``timeout``."""
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_measure, args=(check_name, source, mt, child))
    proc.start()
    child.close()
    result = (None, None)
    if parent.poll(timeout):
        try:
            result = parent.recv()
        except EOFError:  # the child died (e.g. out of memory)
            result = (None, None)
    if proc.is_alive():
        proc.kill()
    proc.join()
    return result


def main(argv: list[str] | None = None) -> int:
    from mtcheck.checks import CHECKS
    import mtcheck.checks.glossary as glossary
    import mtcheck.checks.calques as calques

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checks", default=",".join(CHECKS), help="comma-separated check names (default: all)")
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"comma-separated input kinds ({', '.join(KINDS)})")
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="comma-separated characters per side (default 100000,1000000)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds before one measurement is stopped")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    checks = [c.strip() for c in args.checks.split(",") if c.strip()]
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    unknown = [c for c in checks if c not in CHECKS] + [k for k in kinds if k not in KINDS]
    if unknown:
        parser.error(f"unknown check or kind: {', '.join(unknown)}")

    # Load and compile the packaged glossary and lexicon once, before forking, so no child pays for it.
    from mtcheck.config import CheckOptions

    glossary.glossary_for_options(CheckOptions()).source_pattern
    calques.lexicon_for_options(CheckOptions())

    def fmt(seconds: float | None) -> str:
        return f">{args.timeout:g}" if seconds is None else f"{seconds:.2f}"

    header = f"{'check':<14} {'kind':<13}" + "".join(f" {f's@{n:,}':>12}" for n in sizes)
    if len(sizes) == 2:
        header += f" {'ratio':>7} {'findings':>9}"
    print(header, flush=True)
    rows = []
    for kind in kinds:
        texts = {n: make_segment(kind, n) for n in sizes}
        for name in checks:
            cells = [measure(name, *texts[n], args.timeout) for n in sizes]
            line = f"{name:<14} {kind:<13}" + "".join(f" {fmt(s):>12}" for s, _ in cells)
            if len(sizes) == 2:
                (a, _), (b, nb) = cells
                ratio = f"{b / a:.1f}" if a and b else "-"
                line += f" {ratio:>7} {'-' if nb is None else nb:>9}"
            print(line, flush=True)
            rows.append({"check": name, "kind": kind,
                         "seconds": {str(n): s for n, (s, _) in zip(sizes, cells)},
                         "findings": {str(n): f for n, (_, f) in zip(sizes, cells)}})
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"timeout": args.timeout, "rows": rows}, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
