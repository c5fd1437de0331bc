"""The report's chart: the key figures of each split, as bars (matplotlib, drawn off-screen)."""

from __future__ import annotations

from pathlib import Path

from eval.scoring import Figures


def draw(by_split: dict[str, Figures], path: Path) -> None:
    """Bars of the key figures, one colour per split, saved as a PNG at `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [
        ("hit@1", "hit1"),
        ("hit@3", "hit3"),
        ("MRR", "mrr"),
        ("source R@3", "source_recall3"),
        ("abst. R", "abstain_recall"),
        ("1 - false abst.", "false_abstain"),
    ]
    fig, ax = plt.subplots(figsize=(9, 4))
    splits = list(by_split)
    width = 0.8 / max(len(splits), 1)
    for i, split in enumerate(splits):
        f = by_split[split]
        values = [
            1 - f.false_abstain if a == "false_abstain" else getattr(f, a) for _, a in metrics
        ]
        ax.bar([x + i * width for x in range(len(metrics))], values, width, label=split)
    ax.set_xticks([x + width * (len(splits) - 1) / 2 for x in range(len(metrics))])
    ax.set_xticklabels([m for m, _ in metrics])
    ax.set_ylim(0, 1.05)
    ax.set_title("Assistant on the eval set")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
