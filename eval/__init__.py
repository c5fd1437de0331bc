"""The evaluation harness: the assistant scored on question–answer pairs, through rag's public API.

    corpora.py      the corpora scored: articles, index, eval files (add a corpus here)
    rows.py         an eval set: question–answer rows and speaker labels
    scoring.py      one answer scored against its row; the figures of many rows
    calibration.py  abstention thresholds found on dev results, applied to any split
    ablations.py    the engine's stages added one at a time, one pair of thresholds each
    attribution.py  speaker attribution against the hand labels, matched by position
    harness.py      every corpus present scored: default configuration, ablations, speakers
    report.py       report.md and report.json
    chart.py        report.png
    tune.py         grid search of the fusion and confidence weights on the dev splits

Run with `python -m eval` (or `make eval`).
"""
