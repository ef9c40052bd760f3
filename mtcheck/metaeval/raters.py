"""How far expert raters agree with one another on ranking translations of one source.

Item-grouped Kendall (:func:`mtcheck.metaeval.stats.item_kendall`) asks a
metric to order the systems' translations of each source sentence as the
human scores do. On data with one rating per cell the human side is itself
one expert's judgement, so no metric can be expected to agree with it much
better than a second expert would. newstest2020's MQM has three raters per
segment, each of whom rated *every* system's output of that segment, which
gives that figure directly:

* :func:`rater_item_kendall` scores each rater's per-segment MQM against
  each other rater's, as if one of them were a metric (every ordered pair of
  raters of a segment is one item of the average);
* with ``mixed=True`` the human side of each pair takes, for every system, a
  rater drawn at random among the segment's other raters. newstest2021 and
  TED were rated that way round: one rating per cell, three to nine raters
  among the fourteen scored systems of a segment, so a rater's strictness becomes
  noise *within* an item. The mixed figure is the ceiling's analogue for
  such data;
* :func:`metric_rater_item_kendall` puts a metric in the place of the second
  rater, so a model's figure and the raters' compare on the same items.

Scores are recomputed from the error rows with the weights of Freitag et al.
(2021), which :func:`read_rater_scores` documents; their mean over a
segment's raters is the published segment score.
"""

from __future__ import annotations

from typing import Hashable, Iterable, Mapping

import numpy as np

from mtcheck.metaeval.loaders import MqmErrors, _integer, mqm_rows
from mtcheck.metaeval.stats import BootstrapConfig, Estimate, Judgements, _item_taus, bootstrap_weights, percentile_ci

#: ``(system, item) -> {rater: MQM score}`` (0 = no error, more negative = worse).
RaterScores = Mapping[tuple[str, int], Mapping[str, float]]


def mqm_weight(category: str, severity: str) -> float:
    """The penalty of one MQM error row (Freitag et al. 2021).

    Major 5 (a non-translation 25), minor 1 (a minor punctuation error 0.1);
    neutral and no-error rows 0. Category spellings differ between the WMT
    files (``Non-translation!``, ``Non_translation``); both are matched.
    """
    sev = severity.strip().lower()
    cat = category.strip().lower().replace("_", "-")
    if sev == "major":
        return 25.0 if cat.startswith("non-translation") else 5.0
    if sev == "minor":
        return 0.1 if cat == "fluency/punctuation" else 1.0
    return 0.0


def read_rater_scores(errors: MqmErrors) -> dict[tuple[str, int], dict[str, float]]:
    """Every rater's MQM score of every ``(system, item)`` they rated.

    A rater who found no error on an item (a ``no-error`` row) scores 0
    there. System names and item ids are the dataset's (``errors.rename``,
    ``errors.segid_map``); rows whose seg id the map does not know are skipped.

    Raises:
        InputError: the file is not a Google MQM error file.
    """
    out: dict[tuple[str, int], dict[str, float]] = {}
    for number, fields in mqm_rows(errors.path):
        system, _doc, _doc_id, seg_text, rater, _source, _target, category, severity = fields
        seg = _integer(seg_text, errors.path, number, "seg_id")
        if errors.segid_map is not None:
            if seg not in errors.segid_map:
                continue
            seg = errors.segid_map[seg]
        cell = out.setdefault((errors.rename(system), seg), {})
        cell[rater] = cell.get(rater, 0.0) - mqm_weight(category, severity)
    return out


def _by_item(scores: RaterScores, systems: Iterable[str] | None) -> dict[int, dict[str, dict[str, float]]]:
    """``item -> rater -> system -> score``, over the wanted systems."""
    wanted = None if systems is None else set(systems)
    out: dict[int, dict[str, dict[str, float]]] = {}
    for (system, item), raters in scores.items():
        if wanted is not None and system not in wanted:
            continue
        for rater, value in raters.items():
            out.setdefault(item, {}).setdefault(rater, {})[system] = value
    return out


def _full_raters(per_rater: Mapping[str, Mapping[str, float]]) -> tuple[list[str], list[str]]:
    """The raters of an item who rated every one of its systems, and those systems."""
    systems = sorted({s for cells in per_rater.values() for s in cells})
    raters = sorted(r for r, cells in per_rater.items() if len(cells) == len(systems))
    return raters, systems


def _grouped_mean(human: Mapping, metric: Mapping, bootstrap: BootstrapConfig | None) -> Estimate:
    """Mean tau-b over units ``(item, ...)``, with the bootstrap drawing whole items.

    The units of one segment share its translations, so resampling them one
    by one would make the interval too narrow; a resample draws segments and
    keeps all of a drawn segment's units.
    """
    j = Judgements.from_scores(human, metric)
    taus = _item_taus(j)
    defined = ~np.isnan(taus)
    value = float(taus[defined].mean()) if defined.any() else float("nan")
    ci = None
    if bootstrap is not None and defined.any():
        segments = sorted({unit[0] for unit in j.items})
        index = {seg: k for k, seg in enumerate(segments)}
        member = np.zeros((len(segments), len(j.items)))
        for col, unit in enumerate(j.items):
            member[index[unit[0]], col] = 1.0
        sums = member @ np.where(defined, taus, 0.0)
        counts = member @ defined.astype(float)
        w = bootstrap_weights(len(segments), bootstrap)
        with np.errstate(invalid="ignore", divide="ignore"):
            ci = percentile_ci((w @ sums) / (w @ counts), bootstrap.confidence)
    return Estimate(value, ci, int(defined.sum()), "items", int((~defined).sum()))


def rater_item_kendall(scores: RaterScores, *, systems: Iterable[str] | None = None, mixed: bool = False,
                       seed: int = 1, bootstrap: BootstrapConfig | None = None) -> Estimate:
    """Item-grouped Kendall of one expert rater against another.

    Args:
        scores: Per-rater scores (:func:`read_rater_scores`).
        systems: Restrict to these systems (e.g. leave out the reference).
        mixed: For each ordered rater pair ``(a, b)`` of an item, ``b`` is
            the "metric"; the human side is ``a`` on every system when
            ``False``, and when ``True`` a rater drawn (seeded) for each
            system among the item's raters other than ``b``.
        seed: Seeds the draws of ``mixed``.
        bootstrap: Intervals from resampling items (with all their units).

    Returns:
        The mean tau-b over (item, ordered rater pair) units; only raters who
        rated every system of the item take part, so an item needs two of
        them (newstest2020: three each; newstest2021 and TED: none).
    """
    rng = np.random.default_rng(seed)
    human: dict[tuple[str, Hashable], float] = {}
    metric: dict[tuple[str, Hashable], float] = {}
    for item, per_rater in sorted(_by_item(scores, systems).items()):
        raters, item_systems = _full_raters(per_rater)
        for b in raters:
            others = [r for r in raters if r != b]
            for a in others:
                unit = (item, a, b)
                for s in item_systems:
                    source = others[rng.integers(len(others))] if mixed else a
                    human[(s, unit)] = per_rater[source][s]
                    metric[(s, unit)] = per_rater[b][s]
    return _grouped_mean(human, metric, bootstrap)


def metric_rater_item_kendall(scores: RaterScores, metric: Mapping[tuple[str, int], float | None], *,
                              systems: Iterable[str] | None = None,
                              bootstrap: BootstrapConfig | None = None) -> Estimate:
    """Item-grouped Kendall of a metric against each rater of an item in turn.

    The same units as :func:`rater_item_kendall` (an item once per rater who
    rated all its systems), so the two figures compare directly.

    Args:
        scores: Per-rater scores (:func:`read_rater_scores`).
        metric: ``(system, item) -> metric score`` (higher = better); cells
            without one leave the system out of that item.
        systems: Restrict to these systems.
        bootstrap: Intervals from resampling items (with all their units).
    """
    human: dict[tuple[str, Hashable], float] = {}
    metric_cells: dict[tuple[str, Hashable], float | None] = {}
    for item, per_rater in sorted(_by_item(scores, systems).items()):
        raters, item_systems = _full_raters(per_rater)
        if len(raters) < 2:
            continue
        for a in raters:
            for s in item_systems:
                human[(s, (item, a))] = per_rater[a][s]
                metric_cells[(s, (item, a))] = metric.get((s, item))
    return _grouped_mean(human, metric_cells, bootstrap)
