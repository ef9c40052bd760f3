"""Cross-validation of the QE model on a dev set (``scripts/cv_qe.py``, ``train_qe.py --cv``)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import import_script


@pytest.fixture(scope="module")
def cv_qe():
    return import_script("cv_qe")


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_folds_pool_into_one_grid(cv_qe, tmp_path):
    a = _write(tmp_path / "a.jsonl", [{"system": "S1", "item": 0, "penalty": 1.5},
                                      {"system": "S2", "item": 0, "penalty": 0.25}])
    b = _write(tmp_path / "b.jsonl", [{"system": "S1", "item": "7", "penalty": 3}])
    pooled = cv_qe.pool_folds([cv_qe.read_fold(a), cv_qe.read_fold(b)])
    assert pooled == {("S1", 0): 1.5, ("S2", 0): 0.25, ("S1", 7): 3.0}


def test_overlapping_folds_are_refused(cv_qe, tmp_path):
    a = _write(tmp_path / "a.jsonl", [{"system": "S1", "item": 0, "penalty": 1.5}])
    b = _write(tmp_path / "b.jsonl", [{"system": "S1", "item": 0, "penalty": 2.0}])
    with pytest.raises(ValueError, match="fold 1 predicts 1 cells another fold also predicts"):
        cv_qe.pool_folds([cv_qe.read_fold(a), cv_qe.read_fold(b)])


@pytest.mark.parametrize("line, problem", [
    ('{"system": "S1", "item": 0}', "'penalty'"),
    ("not json", "Expecting value"),
    ('{"system": "S1", "item": "x", "penalty": 1}', "invalid literal"),
])
def test_a_bad_prediction_line_is_named(cv_qe, tmp_path, line, problem):
    path = tmp_path / "p.jsonl"
    path.write_text('{"system": "S0", "item": 1, "penalty": 0}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=rf"p\.jsonl:2: expected a JSON object .*{problem}"):
        cv_qe.read_fold(path)


@pytest.mark.parametrize("fold, folds, message", [
    ("2", "2", "--cv-fold must be in 0..1, got 2"),
    ("-1", "2", "--cv-fold must be in 0..1, got -1"),
    ("0", "1", "--cv-folds must be at least 2, got 1"),
])
def test_train_qe_refuses_folds_that_cannot_be(fold, folds, message, capsys):
    train_qe = import_script("train_qe")
    with pytest.raises(SystemExit) as exc:
        train_qe.main(["--cv", "ted", "--cv-fold", fold, "--cv-folds", folds])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
