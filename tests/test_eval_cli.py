import json

import pytest
from typer.testing import CliRunner

from mtcheck.cli import app

runner = CliRunner()

# 3 systems x 3 items; human and metric orders agree within every item except none:
# per item the metric ranks systems exactly as the humans do, so by-item Kendall is 1.
HUMAN = "system\titem\tscore\nA\t1\t-1\nA\t2\t-5\nA\t3\t0\nB\t1\t-2\nB\t2\t-3\nB\t3\t-1\nC\t1\t0\nC\t2\t-7\nC\t3\t-2\n"
METRIC = "system\titem\tchrf\nA\t1\t60\nA\t2\t40\nA\t3\t70\nB\t1\t55\nB\t2\t50\nB\t3\t60\nC\t1\t75\nC\t2\t30\nC\t3\t50\n"


def test_eval_table_and_json(write):
    h, m = write("h.tsv", HUMAN), write("m.tsv", METRIC)
    result = runner.invoke(app, ["eval", "--human", str(h), "--metric", str(m), "--bootstrap", "0", "--json", "-"])
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.stdout)
    assert report["metric"] == "chrf"
    assert report["item_kendall"]["value"] == pytest.approx(1.0)
    # system means: human A -2, B -2, C -3; metric A 56.67, B 55, C 51.67 -> A/B tied for humans (excluded),
    # A>C and B>C agree: accuracy 2/2
    assert report["pairwise_accuracy"]["value"] == pytest.approx(1.0)
    table = runner.invoke(app, ["eval", "--human", str(h), "--metric", str(m), "--bootstrap", "50"])
    assert table.exit_code == 0 and "seg Kendall (by item)" in table.output and "50 resamples" in table.output


@pytest.mark.parametrize(
    "human, fragment",
    [("system\tscore\nA\t1\n", "item"), ("system\titem\tscore\nA\t1\tbad\n", "h.tsv:2"),
     ("system\titem\tscore\nZ\t9\t1\n", "no")],
)
def test_eval_errors(write, human, fragment):
    h, m = write("h.tsv", human), write("m.tsv", METRIC)
    result = runner.invoke(app, ["eval", "--human", str(h), "--metric", str(m), "--bootstrap", "0"])
    assert result.exit_code == 2 and fragment in result.stderr and "Traceback" not in result.output


# Two systems, two items. A scores 90 on a 1-word MT and 10 on a 9-word one (plain mean 50,
# weighted (90 + 90) / 10 = 18); B scores 40 on both. The humans prefer B (-1 against -5).
W_HUMAN = "system\titem\tscore\nA\t1\t0\nA\t2\t-10\nB\t1\t-1\nB\t2\t-1\n"
W_METRIC = "system\titem\tqe\tweight\nA\t1\t90\t1\nA\t2\t10\t9\nB\t1\t40\t2\nB\t2\t40\t3\n"


@pytest.mark.parametrize("metric, expected", [(W_METRIC, 1.0), (W_METRIC.replace("weight", "words"), None)])
def test_eval_weight_column_weights_the_system_level(write, metric, expected):
    h, m = write("h.tsv", W_HUMAN), write("m.tsv", metric)
    result = runner.invoke(app, ["eval", "--human", str(h), "--metric", str(m), "--bootstrap", "0", "--json", "-"])
    assert result.exit_code == 0, result.output
    reports = {r["metric"]: r for r in json.loads(result.stdout)}
    if expected is None:  # any other name is a metric column, and the system level is the plain mean
        assert set(reports) == {"qe", "words"}
        assert reports["qe"]["pairwise_accuracy"]["value"] == 0.0
    else:
        assert set(reports) == {"qe"}
        assert reports["qe"]["pairwise_accuracy"]["value"] == expected
        assert reports["qe"]["system_pearson"]["value"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "metric, fragment",
    [(W_METRIC.replace("\t3\n", "\t0\n"), "weight"), (W_METRIC.replace("\t3\n", "\t\n"), "weight"),
     ("system\titem\tweight\nA\t1\t1\n", "besides 'weight'")],
)
def test_eval_bad_weights_are_named(write, metric, fragment):
    h, m = write("h.tsv", W_HUMAN), write("m.tsv", metric)
    result = runner.invoke(app, ["eval", "--human", str(h), "--metric", str(m), "--bootstrap", "0"])
    assert result.exit_code == 2 and fragment in result.stderr and "m.tsv" in result.stderr
    assert "Traceback" not in result.output
