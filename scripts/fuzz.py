"""Fuzz campaign: every reader, check, parser and writer against generated and random input.

Each target (``tests/robustness/targets.py``) takes one generated input and
asserts the robustness invariants: no exception but ``MtcheckError`` from a
reader, spans inside their text, nothing lost between input and every
output, no markup from user text in the HTML report, deterministic output.
Two engines drive them:

* ``hypothesis`` (default): structured generators — hostile Unicode, number
  material of both languages, well-formed files in several encodings,
  the same files with a few bytes replaced, inserted, deleted or cut off,
  plain random bytes. Runs batches until the target's share of
  ``--seconds`` or its ``--examples`` count is reached.
* ``atheris`` (libFuzzer, coverage-guided, byte level): the readers only,
  each in its own process, seeded with well-formed files. Needs
  ``pip install atheris``.

Usage::

    python scripts/fuzz.py --seconds 600                 # the whole campaign, 10 minutes in all
    python scripts/fuzz.py --examples 10000              # at least 10,000 inputs per target
    python scripts/fuzz.py --targets 'check:*' --examples 2000
    python scripts/fuzz.py --engine atheris --seconds 300 --targets 'reader:*'
    python scripts/fuzz.py --engine auto --seconds 600   # what ``make fuzz`` runs
    python scripts/fuzz.py --list

It prints one line per target (inputs tried, distinct failures, seconds) and
exits 1 if any target failed, 0 otherwise. ``--json FILE`` writes the same
figures with each failure's minimal input and traceback.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

#: Targets whose single input costs ten times the others' (``datasets`` builds a
#: loader per file; ``batch`` scores and writes every output twice): they get
#: this share of ``--examples``.
SLOW_TARGETS = {"reader:dataset-file": 0.2, "batch": 0.2}


@dataclass
class Target:
    name: str
    strategy: Callable[[], object]  # builds the hypothesis strategy lazily
    run: Callable[[object], None]
    byte_level: bool = False  # atheris can drive it with raw bytes


@dataclass
class Outcome:
    name: str
    engine: str
    inputs: int = 0
    seconds: float = 0.0
    failures: list[dict] = field(default_factory=list)


def build_targets() -> dict[str, Target]:
    """Every target of the campaign, by name."""
    import hypothesis.strategies as st

    from mtcheck.core import Segment
    from tests.robustness import targets as T

    out: dict[str, Target] = {}
    for fmt in T.READER_FORMATS:
        if fmt == "dataset":
            continue
        out[f"reader:{fmt}"] = Target(f"reader:{fmt}", lambda f=fmt: T.reader_input(f), T.reader_target(fmt),
                                      byte_level=True)
    out["reader:gb18030"] = Target("reader:gb18030", lambda: T.reader_input("tsv"),
                                   T.reader_target("tsv", encoding="gb18030"), byte_level=True)
    out["reader:dataset-record"] = Target("reader:dataset-record", T.record_strategy, T.record_target)
    out["reader:dataset-file"] = Target("reader:dataset-file", T.parquet_strategy, T.parquet_target)
    out["reader:gold-spans"] = Target("reader:gold-spans", T.span_file_bytes, T.gold_spans_target, byte_level=True)
    out["reader:results"] = Target("reader:results", T.span_file_bytes, T.results_target, byte_level=True)

    def seg_strategy():
        text_zh = st.one_of(T.hostile_text(), T.number_text("zh"))
        text_en = st.one_of(T.hostile_text(), T.number_text("en"))
        return st.builds(lambda s, m, r: Segment("1", s, m, tuple(r)), text_zh, text_en,
                         st.lists(T.hostile_text(max_size=10), max_size=2))

    for name in T.check_names():
        out[f"check:{name}"] = Target(f"check:{name}", seg_strategy, T.check_target(name))
    out["parse:quantities"] = Target(
        "parse:quantities", lambda: st.one_of(T.number_text("zh", max_size=20), T.number_text("en", max_size=20),
                                              T.hostile_text()), T.quantities_target)
    out["split"] = Target("split", lambda: T.hostile_text(max_size=60), T.split_target)
    out["align"] = Target("align", lambda: st.tuples(T.hostile_text(max_size=60), T.hostile_text(max_size=60)),
                          T.align_target)
    out["spans:merge"] = Target("spans:merge", T.spans_strategy, T.merge_target)
    out["batch"] = Target("batch", lambda: T.segments_strategy(surrogates=True), T.batch_target)
    for fmt in ("text", "tsv", "csv", "jsonl", "json"):
        out[f"roundtrip:{fmt}"] = Target(
            f"roundtrip:{fmt}",
            lambda f=fmt: st.lists(st.builds(T.Record, T.roundtrip_text(f), T.roundtrip_text(f), T.roundtrip_text(f)),
                                   max_size=6),
            lambda recs, f=fmt: T.roundtrip_target(f, recs),
        )
    return out


# ---------------------------------------------------------------------------
# hypothesis engine


def run_hypothesis(target: Target, seconds: float | None, examples: int | None, seed: int | None,
                   batch: int) -> Outcome:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed

    outcome = Outcome(target.name, "hypothesis")
    counter = {"n": 0}
    signatures: set[str] = set()
    strategy = target.strategy()

    def body(x):
        counter["n"] += 1
        target.run(x)

    start = time.monotonic()
    round_no = 0
    while True:
        elapsed = time.monotonic() - start
        if seconds is not None and elapsed >= seconds:
            break
        if examples is not None and counter["n"] >= examples:
            break
        size = batch if examples is None else max(1, min(batch, examples - counter["n"]))
        test = settings(max_examples=size, deadline=None, database=None, derandomize=False,
                        suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
                        phases=(Phase.generate, Phase.shrink), print_blob=True)(given(strategy)(body))
        if seed is not None:
            test = hseed(seed * 100003 + round_no)(test)
        round_no += 1
        before = counter["n"]
        try:
            test()
        except Exception as exc:  # a target failure: record it once, keep fuzzing
            sig = _signature(exc)
            if sig not in signatures:
                signatures.add(sig)
                outcome.failures.append({
                    "error": f"{type(exc).__name__}: {str(exc)[:2000]}",
                    "traceback": "".join(traceback.format_exception(exc))[-6000:],
                })
        if counter["n"] == before:
            break  # the strategy is exhausted
    outcome.inputs = counter["n"]
    outcome.seconds = round(time.monotonic() - start, 1)
    return outcome


def _signature(exc: BaseException) -> str:
    tb = traceback.extract_tb(exc.__traceback__)
    where = next((f"{f.filename}:{f.lineno}" for f in reversed(tb) if "/mtcheck/" in f.filename), "")
    return f"{type(exc).__name__}|{where}|{str(exc).splitlines()[0][:120] if str(exc) else ''}"


# ---------------------------------------------------------------------------
# atheris engine (one subprocess per reader)


def _atheris_seeds(fmt: str, directory: Path) -> None:
    from tests.robustness import targets as T

    directory.mkdir(parents=True, exist_ok=True)
    samples: list[bytes] = []
    units = [("1", "营收350.19亿元，{g}同比增长12%。", "Revenue rose 12% to 35.019 billion yuan.{x}"),
             ("2", "第五届双十一{x}", "The fifth Singles' Day{g}")]
    records = [T.Record("营收350亿元。", "Revenue of 35 billion yuan.", "ref"), T.Record("你好\u2028", "Hi \"x\"", "")]
    if fmt in ("xliff", "po", "tmx"):
        samples += [T.l10n_doc(fmt, units, 0), T.l10n_doc(fmt, units, 1)]
        samples += [p.read_bytes() for p in (REPO / "tests" / "data" / "l10n").glob("*")
                    if p.suffix.lower() in {"xliff": (".xlf", ".xliff"), "po": (".po",), "tmx": (".tmx",)}[fmt]]
    elif fmt == "glossary":
        samples.append("zh\ten\tcase\n双十一\tSingles' Day|Double 11\t\n营收\trevenue\tinsensitive\n".encode())
    else:
        kind = fmt if fmt in ("tsv", "csv", "jsonl", "json") else "text"
        with tempfile.TemporaryDirectory() as tmp:
            paths = T.write_records(kind, records, Path(tmp))
            if kind == "text":
                a, b = (p.read_bytes() for p in paths)
                samples.append(bytes([len(a) * 256 // (len(a) + len(b) + 1)]) + a + b)
            else:
                samples.append(paths[0].read_bytes())
    for i, data in enumerate(samples):
        (directory / f"seed{i}").write_bytes(data)


def atheris_worker(fmt: str, encoding: str, libfuzzer_args: list[str]) -> None:
    """Run inside the subprocess: instrument mtcheck and hand the reader target to libFuzzer."""
    import atheris

    with atheris.instrument_imports(include=["mtcheck"]):
        import mtcheck.checks.glossary  # noqa: F401
        import mtcheck.io.dataset  # noqa: F401
        import mtcheck.io.docpair  # noqa: F401
        import mtcheck.io.l10n  # noqa: F401
        import mtcheck.io.readers  # noqa: F401
    from tests.robustness import targets as T

    run = T.reader_target(fmt, encoding=encoding)
    atheris.Setup([sys.argv[0], *libfuzzer_args], run)
    atheris.Fuzz()


def run_atheris(target: Target, seconds: float | None, examples: int | None) -> Outcome:
    fmt = target.name.split(":", 1)[1]
    encoding = "utf-8"
    if fmt == "gb18030":
        fmt, encoding = "tsv", "gb18030"
    outcome = Outcome(target.name, "atheris")
    with tempfile.TemporaryDirectory(prefix="mtcheck-atheris-") as tmp:
        corpus, artifacts = Path(tmp) / "corpus", Path(tmp) / "artifacts"
        artifacts.mkdir()
        _atheris_seeds(fmt, corpus)
        args = [f"-artifact_prefix={artifacts}/", "-max_len=4096", "-rss_limit_mb=2048", "-timeout=20",
                "-print_final_stats=1", str(corpus)]
        if seconds is not None:
            args.insert(0, f"-max_total_time={max(1, int(seconds))}")
        if examples is not None:
            args.insert(0, f"-runs={examples}")
        cmd = [sys.executable, str(Path(__file__).resolve()), "--atheris-worker", fmt, "--encoding", encoding,
               "--", *args]
        start = time.monotonic()
        proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, errors="replace",
                              env={**os.environ, "PYTHONPATH": str(REPO)})
        outcome.seconds = round(time.monotonic() - start, 1)
        log = proc.stdout + proc.stderr
        m = re.findall(r"stat::number_of_executed_units:\s*(\d+)", log) or re.findall(r"Done (\d+) runs", log)
        outcome.inputs = int(m[-1]) if m else 0
        if proc.returncode != 0:
            crash = sorted(artifacts.glob("*"))
            outcome.failures.append({
                "error": f"libFuzzer exited {proc.returncode}",
                "traceback": log[-6000:],
                "input_hex": crash[0].read_bytes()[:4096].hex() if crash else None,
            })
            if not m:
                # count the runs before the crash from the last status line
                runs = re.findall(r"#(\d+)\s", log)
                outcome.inputs = int(runs[-1]) if runs else 0
    return outcome


# ---------------------------------------------------------------------------


def select(targets: dict[str, Target], patterns: list[str]) -> list[Target]:
    chosen = [t for name, t in targets.items() if any(fnmatch.fnmatch(name, p) for p in patterns)]
    if not chosen:
        raise SystemExit(f"no target matches {patterns}; see --list")
    return chosen


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--atheris-worker":
        sep = argv.index("--") if "--" in argv else len(argv)
        fmt = argv[1]
        encoding = argv[argv.index("--encoding") + 1] if "--encoding" in argv[:sep] else "utf-8"
        atheris_worker(fmt, encoding, argv[sep + 1:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, help="time for the whole campaign, shared evenly by the targets")
    parser.add_argument("--examples", type=int, help="inputs per target (slow targets get a share, see SLOW_TARGETS)")
    parser.add_argument("--targets", default="*", help="comma-separated glob patterns (default: all)")
    parser.add_argument("--engine", choices=("hypothesis", "atheris", "both", "auto"), default="hypothesis",
                        help="auto: both when atheris is installed, else hypothesis")
    parser.add_argument("--seed", type=int, help="make the hypothesis runs reproducible")
    parser.add_argument("--batch", type=int, default=500, help="hypothesis examples per round (default 500)")
    parser.add_argument("--json", type=Path, help="write the figures and failures here")
    parser.add_argument("--list", action="store_true", help="list the targets and exit")
    args = parser.parse_args(argv)

    targets = build_targets()
    if args.list:
        for name, t in targets.items():
            print(f"{name}{'  (atheris too)' if t.byte_level else ''}")
        return 0
    if args.seconds is None and args.examples is None:
        args.seconds = 60.0
    chosen = select(targets, [p.strip() for p in args.targets.split(",") if p.strip()])
    if args.engine == "auto":
        try:
            import atheris  # noqa: F401
        except ImportError:
            print("atheris is not installed: hypothesis engine only (pip install atheris for both)", flush=True)
            args.engine = "hypothesis"
        else:
            args.engine = "both"
    engines = ["hypothesis", "atheris"] if args.engine == "both" else [args.engine]
    runs = [(e, t) for e in engines for t in chosen if e == "hypothesis" or t.byte_level]
    if not runs:
        raise SystemExit("no target for that engine (atheris drives the reader:* targets only)")
    if "atheris" in engines:
        try:
            import atheris  # noqa: F401
        except ImportError:
            raise SystemExit("atheris is not installed: pip install atheris (or use --engine hypothesis)") from None
    share = args.seconds / len(runs) if args.seconds is not None else None

    import logging
    import warnings

    logging.disable(logging.ERROR)  # datasets logs every unreadable file it is handed, which is all of them here
    warnings.simplefilter("ignore")
    outcomes: list[Outcome] = []
    print(f"{'target':<26} {'engine':<10} {'inputs':>8} {'failures':>8} {'seconds':>8}", flush=True)
    for engine, target in runs:
        examples = args.examples
        if examples is not None and target.name in SLOW_TARGETS:
            examples = max(1, int(examples * SLOW_TARGETS[target.name]))
        if engine == "hypothesis":
            o = run_hypothesis(target, share, examples, args.seed, args.batch)
        else:
            o = run_atheris(target, share, examples)
        outcomes.append(o)
        print(f"{o.name:<26} {o.engine:<10} {o.inputs:>8} {len(o.failures):>8} {o.seconds:>8}", flush=True)
        for f in o.failures:
            print(f"  FAILURE {f['error'][:300]}", flush=True)
    total = sum(o.inputs for o in outcomes)
    failed = sum(len(o.failures) for o in outcomes)
    print(f"{'total':<26} {'':<10} {total:>8} {failed:>8} {sum(o.seconds for o in outcomes):>8.1f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "command": "python scripts/fuzz.py " + " ".join(argv),
            "targets": [o.__dict__ for o in outcomes],
            "total_inputs": total,
            "failures": failed,
        }, indent=2, ensure_ascii=False), encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
