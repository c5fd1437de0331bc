"""The report of a run: each corpus's figures, ablations, speakers and misses, as Markdown and JSON.

`write` turns an `Evaluation` into report.md, report.json and report.png; the prose
the report repeats is kept in the constants below, the tables in the functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from eval import chart
from eval.ablations import DEFAULT, Ablation
from eval.attribution import Attribution
from eval.calibration import MAX_FALSE_ABSTAIN, Thresholds
from eval.corpora import Corpus
from eval.harness import Evaluation, Report
from eval.scoring import Figures, RowResult

ABLATIONS_INTRO = (
    "Each configuration gets its own pair of thresholds, t = topic / asked person's "
    "words, calibrated on {dev} (the pair refusing the most unanswerable rows while "
    f"refusing at most {MAX_FALSE_ABSTAIN:.0%} of the answerable ones), then applied to "
    "both splits. Test split shown."
)
CALIBRATION = "Ablation thresholds are calibrated on {dev}, never on a test split."
DEFAULT_THRESHOLD = (
    "Calibrated so, the default configuration's thresholds are {threshold} (topic / "
    "asked person's words); the engine uses {used}{advice}."
)
RECALIBRATE = " (`python eval/tune.py --confidence` searches the weights and thresholds again)"
NEGATIVE_THRESHOLD = (
    "A speaker threshold below zero refuses nothing by the asked person's words: on the "
    "dev splits, that configuration does best with no such gate (a person named anywhere "
    "is taken as the speaker asked for, and in many rows none of the best hits are that "
    "person's words, which scores 0)."
)
SPEAKERS = (
    "Against `{labels}` ({n} sentences labelled by hand, {labelled} with a speaker; a "
    "label counts for the engine's sentence that holds its first character). "
    "`1st quote speaker` above: of the answered rows whose question names a person, "
    "the share whose first quote is that person's."
)
MAX_ERRORS = 40  # disagreements listed in the Markdown; report.json has all but the test split's

_COLUMNS = (
    ("hit@1", "hit1"),
    ("hit@3", "hit3"),
    ("MRR", "mrr"),
    ("char F1", "char_f1"),
    ("source R@3", "source_recall3"),
    ("abst. P", "abstain_precision"),
    ("abst. R", "abstain_recall"),
    ("false abst.", "false_abstain"),
    ("verbatim", "verbatim"),
    ("quotes/ans", "quotes_per_answer"),
    ("median chars", "median_quote_chars"),
    ("p50 ms", "p50_ms"),
    ("p95 ms", "p95_ms"),
    ("1st quote speaker", "first_quote_speaker"),
)
_KEY = (
    ("MRR", "mrr"),
    ("hit@3", "hit3"),
    ("false abstain", "false_abstain"),
    ("abst. R", "abstain_recall"),
)


@dataclass(frozen=True, slots=True)
class Written:
    evaluation: Evaluation
    tables: dict[str, str]  # corpus -> its default-configuration table, as printed
    files: tuple[Path, ...]


def write(evaluation: Evaluation, corpora: Sequence[Corpus], out_dir: Path) -> Written:
    """Write report.md, report.json and report.png into out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    where = {c.name: c for c in corpora}
    md = _header(evaluation, where)
    tables = {}
    for name, rep in evaluation.reports.items():
        tables[name] = default_table(rep)
        md += _corpus(rep, where[name], evaluation.calibrated_on)
    files = (out_dir / "report.md", out_dir / "report.json", out_dir / "report.png")
    files[0].write_text("\n".join(md), encoding="utf-8")
    files[1].write_text(evaluation.to_json(), encoding="utf-8")
    bars = {
        f"{name} {split}": f
        for name, rep in evaluation.reports.items()
        for split, f in rep.by_split.items()
    }
    chart.draw(bars, files[2])
    return Written(evaluation, tables, files)


def default_table(rep: Report) -> str:
    return _table([(f"{s} split", f) for s, f in rep.by_split.items()] + [("all", rep.overall)])


def _header(evaluation: Evaluation, where: dict[str, Corpus]) -> list[str]:
    s = evaluation.settings
    scored = ", ".join(
        f"**{name}** (`{where[name].corpus_dir.as_posix()}`)" for name in evaluation.reports
    )
    md = ["# Evaluation report", "", f"Corpora scored: {scored}."]
    md += [f"Not scored: **{name}**, {why}." for name, why in evaluation.skipped.items()]
    md += [
        "",
        f"Settings: retrieval `{s['retrieval']}`, abstain below {s['abstain_below']} "
        f"(topic) and {s['speaker_below']} (the asked person's words), "
        f"model `{s['model']}`. Regenerate with `make eval`.",
        "",
    ]
    thresholds = {
        rep.ablations[DEFAULT].threshold
        for rep in evaluation.reports.values()
        if DEFAULT in rep.ablations
    }
    if evaluation.calibrated_on:
        line = CALIBRATION.format(dev=_pooled(evaluation.calibrated_on))
        if len(thresholds) == 1:
            (threshold,) = thresholds
            used = Thresholds(s["abstain_below"], s["speaker_below"])
            advice = "" if threshold == used else RECALIBRATE
            line += " " + DEFAULT_THRESHOLD.format(threshold=threshold, used=used, advice=advice)
        md += [line, ""]
    return md


def _pooled(names: Sequence[str]) -> str:
    """Where thresholds were calibrated: "the dev split of seeds", or of several together."""
    if not names:
        return "no dev split (no corpus has one)"
    if len(names) == 1:
        return f"the dev split of {names[0]}"
    return f"the dev splits of {', '.join(names[:-1])} and {names[-1]} together"


def _corpus(rep: Report, corpus: Corpus, calibrated_on: Sequence[str]) -> list[str]:
    n = len(rep.results)
    answerable = sum(r.answerable for r in rep.results)
    md = [
        f"## {rep.corpus}",
        "",
        f"Set: `{corpus.qa.as_posix()}` ({n} rows, {answerable} answerable), articles in "
        f"`{corpus.corpus_dir.as_posix()}`.",
        "",
        "### Default configuration",
        "",
        default_table(rep),
        "",
    ]
    for split, kinds in rep.by_kind.items():
        md += [f"### By kind, {split} split", "", _table(list(kinds.items())), ""]
    if rep.ablations:
        md += _ablations(rep.ablations, rep.by_split, calibrated_on)
    if rep.attribution:
        md += _speakers(rep.attribution, corpus)
    md += _misses(rep.results)
    if rep.skipped_files:
        md += ["### Articles not indexed", ""]
        md += [f"- `{source}`: {why}" for source, why in rep.skipped_files]
        md.append("")
    return md


def _table(rows: Sequence[tuple[str, Figures]]) -> str:
    head = "| | n | " + " | ".join(c for c, _ in _COLUMNS) + " |"
    rule = "|---|---|" + "---|" * len(_COLUMNS)
    lines = [head, rule]
    for name, f in rows:
        cells = " | ".join(f"{getattr(f, a):g}" for _, a in _COLUMNS)
        lines.append(f"| {name} | {f.rows} | {cells} |")
    return "\n".join(lines)


def _versus(by_split: dict[str, Figures], default: dict[str, Figures]) -> str:
    """How a configuration's key figures differ from the default's, split by split."""
    parts = []
    for split in ("dev", "test"):
        if split not in by_split or split not in default:
            continue
        changes = [
            f"{label} {getattr(by_split[split], a) - getattr(default[split], a):+.3f}"
            for label, a in _KEY
            if abs(getattr(by_split[split], a) - getattr(default[split], a)) > 1e-9
        ]
        parts.append(f"{split} " + (", ".join(changes) if changes else "the same"))
    same = all(p.endswith("the same") for p in parts)
    return "the same as the default on both splits" if same else "; ".join(parts)


def _ablations(
    ablations: dict[str, Ablation], default: dict[str, Figures], calibrated_on: Sequence[str]
) -> list[str]:
    md = ["### Ablations", "", ABLATIONS_INTRO.format(dev=_pooled(calibrated_on)), ""]
    for split, title in (("test", None), ("dev", "Dev split:")):
        shown = [(name, a) for name, a in ablations.items() if split in a.by_split]
        if not shown:
            continue
        if title:
            md += [title, ""]
        label = (lambda n, a: f"{n} (t={a.threshold})") if split == "test" else (lambda n, a: n)
        md += [_table([(label(n, a), a.by_split[split]) for n, a in shown]), ""]
    md += ["Against the default configuration (MRR, hit@3, false abstain, abstention recall):", ""]
    md += [f"- {name}: {_versus(a.by_split, default)}" for name, a in ablations.items()]
    if any(a.threshold.speaker < 0 for a in ablations.values()):
        md += ["", NEGATIVE_THRESHOLD]
    return [*md, ""]


def _speakers(by_split: dict[str, Attribution], corpus: Corpus) -> list[str]:
    every = by_split["all"]
    md = [
        "### Speaker attribution",
        "",
        SPEAKERS.format(
            labels=corpus.speakers.as_posix(), n=every.sentences, labelled=every.labelled
        ),
        "",
        "| labels | n | with a speaker | precision | recall | direct/reported right |",
        "|---|---|---|---|---|---|",
    ]
    md += [
        f"| {split} | {a.sentences} | {a.labelled} | {a.precision:g} | {a.recall:g} | "
        f"{a.speech_accuracy:g} |"
        for split, a in by_split.items()
    ]
    md += ["", "Disagreements:", ""]
    md += [f"- {e}" for e in every.errors[:MAX_ERRORS]] or ["- none"]
    if len(every.errors) > MAX_ERRORS:
        md.append(f"- … and {len(every.errors) - MAX_ERRORS} more (report.json lists them all)")
    if every.hidden:
        md.append(
            f"- {every.hidden} on the test split, counted but not listed here or in "
            "report.json, so that no rule is written from them"
        )
    return [*md, ""]


def _misses(results: Sequence[RowResult]) -> list[str]:
    misses = [r for r in results if r.answerable and (r.rank is None or r.rank > 3)]
    wrong = [r for r in results if not r.answerable and not r.abstained]
    md = ["### Rows missed (no answer in the first three quotes)", ""]
    md += [
        f"- `{r.id}` ({r.split}, {r.kind}){' — abstained' if r.abstained else ''}" for r in misses
    ] or ["- none"]
    md += ["", "### Unanswerable rows answered anyway", ""]
    md += [f"- `{r.id}` ({r.split})" for r in wrong] or ["- none"]
    return [*md, ""]
