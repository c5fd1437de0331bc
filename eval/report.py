"""The report: figures per split and per kind, ablations, speakers and misses, as Markdown and JSON.

`write_report` runs an eval set through an Assistant and writes report.md,
report.json and report.png; the prose of the report is kept in the constants below.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from eval import chart
from eval.ablations import ABLATIONS, ablation
from eval.attribution import attribution
from eval.calibration import MAX_FALSE_ABSTAIN
from eval.rows import load_labels, load_rows
from eval.scoring import Figures, RowResult, figures, run
from rag import Assistant


@dataclass(frozen=True, slots=True)
class Report:
    """Figures per split and per kind, the per-row results, and ablation rows."""

    config: str
    overall: Figures
    by_split: dict[str, Figures]
    by_kind: dict[str, dict[str, Figures]]  # split -> kind -> figures
    results: tuple[RowResult, ...]
    ablations: dict[str, dict[str, Figures]] = field(
        default_factory=dict
    )  # config -> split -> figures

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, ensure_ascii=False)


def report(config: str, results: Sequence[RowResult]) -> Report:
    splits = sorted({r.split for r in results})
    return Report(
        config=config,
        overall=figures(results),
        by_split={s: figures([r for r in results if r.split == s]) for s in splits},
        by_kind={
            s: {
                k: figures([r for r in results if r.split == s and r.kind == k])
                for k in sorted({r.kind for r in results})
            }
            for s in splits
        },
        results=tuple(results),
    )


@dataclass(frozen=True, slots=True)
class Written:
    report: Report
    table: str
    files: tuple[Path, ...]


ABLATIONS_INTRO = (
    "Each configuration gets its own abstention threshold, calibrated on the dev split "
    f"(the highest that abstains on at most {MAX_FALSE_ABSTAIN:.0%} of its answerable "
    "rows), then applied to both splits. Test split shown."
)
NEGATIVE_THRESHOLD = (
    "A negative threshold: the configuration refuses more than "
    f"{MAX_FALSE_ABSTAIN:.0%} of the dev split's answerable rows whatever the "
    "threshold (a person named anywhere is taken as the speaker asked for; in more "
    "than that share, none of the best hits are that person's words, which scores "
    "0), so it is given none."
)
FIRST_QUOTE_SPEAKER = (
    "`1st quote speaker` above: of the answered rows whose question names a "
    "person, the share whose first quote is that person's."
)

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


def _table(rows: Sequence[tuple[str, Figures]]) -> str:
    head = "| | n | " + " | ".join(c for c, _ in _COLUMNS) + " |"
    rule = "|---|---|" + "---|" * len(_COLUMNS)
    lines = [head, rule]
    for name, f in rows:
        cells = " | ".join(f"{getattr(f, a):g}" for _, a in _COLUMNS)
        lines.append(f"| {name} | {f.rows} | {cells} |")
    return "\n".join(lines)


_KEY = (
    ("MRR", "mrr"),
    ("hit@3", "hit3"),
    ("false abstain", "false_abstain"),
    ("abst. R", "abstain_recall"),
)


def _versus(figs: dict, default: dict[str, Figures]) -> str:
    """How a configuration's key figures differ from the default's, split by split."""
    parts = []
    for split in ("dev", "test"):
        if split not in figs or split not in default:
            continue
        changes = [
            f"{label} {getattr(figs[split], a) - getattr(default[split], a):+.3f}"
            for label, a in _KEY
            if abs(getattr(figs[split], a) - getattr(default[split], a)) > 1e-9
        ]
        parts.append(f"{split} " + (", ".join(changes) if changes else "the same"))
    same = all(p.endswith("the same") for p in parts)
    return "the same as the default on both splits" if same else "; ".join(parts)


def write_report(
    assistant: Assistant, set_path: Path, out_dir: Path, ablations: bool = True
) -> Written:
    """Run the eval set, write report.md, report.json and report.png into out_dir."""
    rows = load_rows(set_path)
    rep = report("default", run(assistant, rows))
    extra = (
        {name: ablation(assistant, rows, changes) for name, changes in ABLATIONS.items()}
        if ablations
        else {}
    )
    rep = Report(rep.config, rep.overall, rep.by_split, rep.by_kind, rep.results, extra)
    out_dir.mkdir(parents=True, exist_ok=True)
    table = _table([(f"{s} split", f) for s, f in rep.by_split.items()] + [("all", rep.overall)])
    s = assistant.settings
    md = [
        "# Evaluation report",
        "",
        f"Set: `{set_path.as_posix()}` ({len(rows)} rows, "
        f"{sum(r.answerable for r in rows)} answerable). Settings: retrieval "
        f"`{s.retrieval}`, abstain below {s.abstain_below}, "
        f"model `{assistant.embedder.name}`. Regenerate with `make eval`.",
        "",
        "## Default configuration",
        "",
        table,
        "",
    ]
    for split, kinds in rep.by_kind.items():
        md += [f"## By kind, {split} split", "", _table(list(kinds.items())), ""]
    if extra:
        md += _ablations(extra, rep.by_split)
    labels = set_path.parent / "speakers.jsonl"
    if labels.is_file():
        md += _speakers(assistant, labels)
    md += _misses(rep.results)
    files = (out_dir / "report.md", out_dir / "report.json", out_dir / "report.png")
    files[0].write_text("\n".join(md), encoding="utf-8")
    files[1].write_text(rep.to_json(), encoding="utf-8")
    chart.draw(rep.by_split, files[2])
    return Written(rep, table, files)


def _ablations(extra: dict[str, dict], default: dict[str, Figures]) -> list[str]:
    md = [
        "## Ablations",
        "",
        ABLATIONS_INTRO,
        "",
        _table([(f"{name} (t={figs['threshold']})", figs["test"]) for name, figs in extra.items()]),
        "",
        "Dev split:",
        "",
        _table([(name, figs["dev"]) for name, figs in extra.items()]),
        "",
        "Against the default configuration (MRR, hit@3, false abstain, abstention recall):",
        "",
    ]
    md += [f"- {name}: {_versus(figs, default)}" for name, figs in extra.items()]
    if any(figs["threshold"] < 0 for figs in extra.values()):
        md += ["", NEGATIVE_THRESHOLD]
    return [*md, ""]


def _speakers(assistant: Assistant, labels: Path) -> list[str]:
    att = attribution(assistant, load_labels(labels))
    md = [
        "## Speaker attribution",
        "",
        f"Against `{labels.as_posix()}` ({att.sentences} sentences labelled by hand, "
        f"{att.labelled} with a speaker): precision **{att.precision}**, recall "
        f"**{att.recall}**, direct/reported right on {att.speech_accuracy} of the rightly "
        f"attributed. {FIRST_QUOTE_SPEAKER}",
        "",
    ]
    md += [f"- {e}" for e in att.errors] or ["- no disagreement"]
    return [*md, ""]


def _misses(results: Sequence[RowResult]) -> list[str]:
    misses = [r for r in results if r.answerable and (r.rank is None or r.rank > 3)]
    wrong = [r for r in results if not r.answerable and not r.abstained]
    md = ["## Rows missed (no answer in the first three quotes)", ""]
    md += [
        f"- `{r.id}` ({r.split}, {r.kind}){' — abstained' if r.abstained else ''}" for r in misses
    ] or ["- none"]
    md += ["", "## Unanswerable rows answered anyway", ""]
    md += [f"- `{r.id}` ({r.split})" for r in wrong] or ["- none"]
    return [*md, ""]
