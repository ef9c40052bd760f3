"""`mtcheck check`: exit codes, threshold sources and precedence, last lines of the log."""

import pytest
from typer.testing import CliRunner

from mtcheck.cli import app
from mtcheck.config import load_project_config
from mtcheck.errors import ConfigError

runner = CliRunner()

# a: clean; b: empty MT (critical, penalty 25); headline = -25 / 2 = -12.5
TSV = ("id\tdoc\tsource\tmt\tref\n"
       "a\td\t你好。\tHello.\tHello.\n"
       "b\td\t谢谢。\t\tThank you.\n")
CLEAN = "id\tsource\tmt\nx\t你好。\tHello.\n"


@pytest.fixture
def repo(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "b.tsv").write_text(TSV, encoding="utf-8")
    (tmp_path / "clean.tsv").write_text(CLEAN, encoding="utf-8")
    return tmp_path


def run(*args):
    return runner.invoke(app, ["check", *map(str, args), "-q", "--checks", "empty"])


def test_pass(repo):
    result = run("clean.tsv")
    assert result.exit_code == 0 and result.output.strip().endswith("mtcheck gate PASSED (1 segments)")


def test_default_fails_on_critical_and_names_segment(repo):
    result = run("b.tsv")
    assert result.exit_code == 1
    last = result.output.strip().splitlines()[-2:]
    assert last == ["mtcheck gate FAILED: 1 threshold(s) not met", "  - max-critical: 1 (limit 0); segments: b"]


def test_cli_thresholds(repo):
    assert run("b.tsv", "--max-critical", "1").exit_code == 0
    # Without the QE model the headline is the rule-based mqm_est (0 = best).
    result = run("b.tsv", "--max-critical", "1", "--fail-under", "-10", "--metrics", "chrf")
    assert result.exit_code == 1 and "fail-under (mqm_est): -12.50 (limit -10); segments: b" in result.output
    result = run("b.tsv", "--max-critical", "1", "--min-metric", "chrf=99")
    assert result.exit_code == 1 and "min-metric chrf" in result.output
    assert run("b.tsv", "--max-critical", "1", "--max-category", "Accuracy=0").exit_code == 1
    assert run("b.tsv", "--max-critical", "1", "--max-category", "Terminology=0").exit_code == 0


@pytest.mark.parametrize(
    "args, fragment",
    [(["--min-metric", "chrf"], "NAME=VALUE"), (["--max-category", "Accuracy=lots"], "not a valid int"),
     (["--min-metric", "ter=30"], "lower is better"), (["--min-metric", "comet=0.5"], "did not compute")],
)
def test_usage_errors_exit_2(repo, args, fragment):
    result = run("b.tsv", *args)
    assert result.exit_code == 2 and fragment in result.stderr


def test_mtcheck_toml(repo):
    (repo / "mtcheck.toml").write_text("max-critical = 1\nfail-under = -20\n", encoding="utf-8")
    result = run("b.tsv")
    assert result.exit_code == 0 and "thresholds from" in result.output
    # the command line wins over the file
    assert run("b.tsv", "--max-critical", "0").exit_code == 1


def test_pyproject_table_found_from_subdirectory(repo, monkeypatch):
    (repo / "pyproject.toml").write_text("[project]\nname='x'\n[tool.mtcheck]\nmax-critical = 5\n", encoding="utf-8")
    sub = repo / "l10n" / "fr"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    result = runner.invoke(app, ["check", str(repo / "b.tsv"), "-q", "--checks", "empty"])
    assert result.exit_code == 0


def test_mtcheck_toml_beats_pyproject_in_same_directory(repo):
    (repo / "pyproject.toml").write_text("[tool.mtcheck]\nmax-critical = 5\n", encoding="utf-8")
    (repo / "mtcheck.toml").write_text("max-critical = 0\n", encoding="utf-8")
    assert run("b.tsv").exit_code == 1


def test_unreadable_segment_counts_against_max_failed(repo):
    (repo / "bad.tsv").write_text(CLEAN + "broken row\n", encoding="utf-8")
    result = run("bad.tsv")
    assert result.exit_code == 1 and "max-failed (unreadable segments): 1 (limit 0); segments: line3" in result.output
    assert run("bad.tsv", "--max-failed", "1").exit_code == 0


def test_input_error_exit_2(repo):
    result = run("missing.tsv")
    assert result.exit_code == 2 and "cannot open file" in result.stderr


@pytest.mark.parametrize(
    "content, fragment",
    [("max-critical = 'none'\n", "max-critical must be an integer"), ("fail_under = 3\n", "unknown mtcheck setting"),
     ("max-critical = \n", "invalid TOML")],
)
def test_bad_config_file(repo, content, fragment):
    (repo / "mtcheck.toml").write_text(content, encoding="utf-8")
    result = run("b.tsv")
    assert result.exit_code == 2 and fragment in result.stderr and "mtcheck.toml" in result.stderr


def test_search_stops_at_repository_root(tmp_path):
    (tmp_path / "mtcheck.toml").write_text("max-critical = 3\n", encoding="utf-8")
    inner = tmp_path / "repo"
    (inner / ".git").mkdir(parents=True)
    assert load_project_config(str(inner)).path is None


def test_explicit_config_file(tmp_path):
    cfg = tmp_path / "gate.toml"
    cfg.write_text("[tool.mtcheck]\nmax-major = 2\n", encoding="utf-8")
    assert load_project_config(explicit=str(cfg)).get("max-major") == 2
    with pytest.raises(ConfigError, match="cannot read"):
        load_project_config(explicit=str(tmp_path / "none.toml"))


def test_junit_and_sarif_written(repo):
    result = run("b.tsv", "--junit", "out/j.xml", "--sarif", "out/s.sarif")
    assert result.exit_code == 1
    assert (repo / "out" / "j.xml").is_file() and (repo / "out" / "s.sarif").is_file()


def test_check_options_from_cli_and_config(repo):
    tsv = "id\tsource\tmt\nx\t公司表示，将继续投资于云计算。\tThe company said it will keep investing.\n"
    (repo / "t.tsv").write_text(tsv, encoding="utf-8")
    # the default glossary knows 云计算: a major Terminology finding
    base = runner.invoke(app, ["check", "t.tsv", "-q", "--checks", "terms", "--max-major", "0"])
    assert base.exit_code == 1 and "max-major: 1 (limit 0); segments: x" in base.output
    assert runner.invoke(app, ["check", "t.tsv", "-q", "--checks", "terms", "--max-major", "0",
                               "--set", "terms.default_glossary=off"]).exit_code == 0
    (repo / "mtcheck.toml").write_text("[check-options.terms]\ndefault_glossary = false\n", encoding="utf-8")
    assert runner.invoke(app, ["check", "t.tsv", "-q", "--checks", "terms", "--max-major", "0"]).exit_code == 0
    # the command line wins over the file
    assert runner.invoke(app, ["check", "t.tsv", "-q", "--checks", "terms", "--max-major", "0",
                               "--set", "terms.default_glossary=on"]).exit_code == 1


@pytest.mark.parametrize("value, fragment", [("nodot=1", "CHECK.KEY=VALUE"), ("ghost.key=1", "unknown check(s) ghost")])
def test_bad_check_option(repo, value, fragment):
    result = runner.invoke(app, ["check", "b.tsv", "-q", "--set", value])
    assert result.exit_code == 2 and fragment in result.stderr


L10N = __import__("pathlib").Path(__file__).parent / "data" / "l10n"


def test_l10n_batch_annotated(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "annotated"
    result = runner.invoke(app, ["check", str(L10N), "-q", "--annotate", str(out), "--checks", "empty"])
    assert result.exit_code == 1
    written = sorted(p.name for p in out.iterdir())
    assert written == ["annual-report.xlf", "messages.po", "policy.xlf"]   # TMX is read but not annotated
    failing_line = result.output.strip().splitlines()[-1]
    assert "annual-report.xlf:ar-4" in failing_line and "messages.po:5" in failing_line
    po = (out / "messages.po").read_text(encoding="utf-8")
    assert "#, fuzzy" in po and "# mtcheck: needs review" in po
    # units that did not fail are byte-identical
    original = (L10N / "messages.po").read_text(encoding="utf-8").splitlines()
    assert set(original) <= set(po.splitlines())


def test_annotate_needs_l10n_input(repo):
    result = run("b.tsv", "--annotate", "out.xlf")
    assert result.exit_code == 2 and "--annotate needs XLIFF or PO input files" in result.stderr


def test_same_file_names_in_two_directories_get_distinct_ids(tmp_path):
    from mtcheck.io import read_inputs

    for lang in ("a", "b"):
        (tmp_path / lang).mkdir()
        (tmp_path / lang / "m.tsv").write_text("id\tsource\tmt\n1\t你好。\tHello.\n", encoding="utf-8")
    ids = [s.id for s in read_inputs([tmp_path / "a" / "m.tsv", tmp_path / "b" / "m.tsv"])]
    assert len(set(ids)) == 2 and ids[0].endswith("a/m.tsv:1")
