"""Parity with sacrebleu's own command line, an independent code path from our wrapper."""

import subprocess
import sys

import pytest

from mtcheck.metrics import METRICS, get_metric

HYP = [
    "Double 11 after the curtain, Alibaba announced a turnover of 35.019 billion yuan.",
    "Revenue rose 32% year on year to 19.1 billion yuan.",
    "The company plans to list in Hong Kong.",
    "",
    "Net profit was 78 million yuan, compared with a loss a year earlier.",
]
REF_A = [
    "After Double 11 came to a close, Alibaba announced GMV of 35.019 billion yuan.",
    "Revenue grew 32% year-on-year to 19.1 billion yuan.",
    "The company plans to list on the Hong Kong Stock Exchange.",
    "Cainiao handled 150 million parcels.",
    "Net profit was 78 million yuan versus a net loss in the same period last year.",
]
REF_B = [
    "When Singles' Day ended, Alibaba reported 35.019 billion yuan in sales.",
    "Revenue was up 32 percent from a year earlier, at 19.1 billion yuan.",
    "The firm intends to go public in Hong Kong.",
    "Cainiao processed 150 million packages.",
    "It made a net profit of 78 million yuan after a loss last year.",
]

_LABEL = {"bleu": "BLEU", "chrf": "chrF2", "ter": "TER"}


def _sacrebleu_cli(tmp_path, metric, refs, sentence_level):
    hyp = tmp_path / "hyp.en"
    hyp.write_text("\n".join(HYP) + "\n", encoding="utf-8")
    ref_paths = []
    for i, ref in enumerate(refs):
        p = tmp_path / f"ref{i}.en"
        p.write_text("\n".join(ref) + "\n", encoding="utf-8")
        ref_paths.append(str(p))
    cmd = [sys.executable, "-m", "sacrebleu", *ref_paths, "-i", str(hyp), "-m", metric, "-w", "6", "-f", "text"]
    if sentence_level:
        cmd.append("-sl")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return out


def _values(out):
    # each line: "SIGNATURE = SCORE [details with more '=' signs]"
    return [float(line.split(" = ", 1)[1].split()[0]) for line in out.splitlines() if " = " in line]


@pytest.mark.parametrize("metric", ["bleu", "chrf", "ter"])
@pytest.mark.parametrize("nrefs", [1, 2])
def test_corpus_parity(tmp_path, metric, nrefs):
    refs = [REF_A, REF_B][:nrefs]
    out = _sacrebleu_cli(tmp_path, metric, refs, sentence_level=False)
    (expected,) = _values(out)
    result = get_metric(metric).corpus_score(HYP, [list(r) for r in zip(*refs)])
    assert result.score == pytest.approx(expected, abs=1e-5)
    # our signature is sacrebleu's, with the metric name in front and our version at the end
    cli_sig = out.split(" = ")[0].split("|", 1)[1]
    assert result.signature.startswith(f"metric:{METRICS[metric].label}|")
    assert cli_sig in result.signature
    assert result.signature.endswith("|mtcheck:0.1.0")


@pytest.mark.parametrize("metric", ["bleu", "chrf", "ter"])
def test_sentence_parity(tmp_path, metric):
    expected = _values(_sacrebleu_cli(tmp_path, metric, [REF_A], sentence_level=True))
    got = get_metric(metric).segment_scores(HYP, [[r] for r in REF_A])
    assert got == pytest.approx(expected, abs=1e-5)


def test_segments_without_reference():
    m = get_metric("chrf")
    refs = [[REF_A[0]], [], [REF_A[2], REF_B[2]], [], [REF_A[4]]]
    scores = m.segment_scores(HYP, refs)
    assert scores[1] is None and scores[3] is None
    corpus = m.corpus_score(HYP, refs)
    assert corpus.n == 3
    assert "nrefs:var" in corpus.signature
    # the corpus score over the referenced subset equals scoring that subset alone
    sub = m.corpus_score([HYP[0], HYP[2], HYP[4]], [[REF_A[0], None], [REF_A[2], REF_B[2]], [REF_A[4], None]])
    assert corpus.score == pytest.approx(sub.score)


def test_no_reference_at_all():
    corpus = get_metric("bleu").corpus_score(HYP[:2], [[], []])
    assert corpus.score is None and corpus.n == 0 and "nrefs:0" in corpus.signature


def test_lowercase_changes_chrf():
    hyp, ref = ["ALIBABA GROUP"], [["Alibaba Group"]]
    assert get_metric("chrf").segment_scores(hyp, ref)[0] < 100
    assert get_metric("chrf", lowercase=True).segment_scores(hyp, ref)[0] == pytest.approx(100)


# Variable reference counts (None-padded streams), against sacrebleu's Python API directly.
_SACRE = {"bleu": "BLEU", "chrf": "CHRF", "ter": "TER"}


@pytest.mark.parametrize("metric", ["bleu", "chrf", "ter"])
def test_statistics_give_sacrebleus_corpus_and_sentence_scores(metric):
    import sacrebleu.metrics as sm

    refs = [[REF_A[0], REF_B[0]], [REF_A[1]], [], [REF_A[3], REF_B[3]], [REF_B[4]]]
    m = get_metric(metric)
    stats = m.segment_statistics(HYP, refs)
    assert stats[2] is None and all(s is not None for i, s in enumerate(stats) if i != 2)
    keep = [i for i in range(len(HYP)) if refs[i]]
    streams = [[refs[i][k] if k < len(refs[i]) else None for i in keep] for k in range(2)]
    cls = getattr(sm, _SACRE[metric])
    expected = cls().corpus_score([HYP[i] for i in keep], streams)
    got = m.corpus_from_statistics(stats, refs)
    assert got.score == pytest.approx(expected.score, abs=1e-9)
    assert got.n == 4 and "nrefs:var" in got.signature
    assert m.corpus_score(HYP, refs) == got
    sentence = cls(effective_order=True) if metric == "bleu" else cls()
    assert m.scores_from_statistics(stats) == pytest.approx(
        [None if not r else sentence.sentence_score(h, r).score for h, r in zip(HYP, refs)])
    # segment_outputs keeps the statistics of its call for the pipeline
    assert m.segment_outputs(HYP, refs)[m.name] == m.segment_scores(HYP, refs)
    assert m.last_statistics() == stats
