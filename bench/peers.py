"""The same corpus and model through txtai, side by side with this engine, in one run.

    python bench/peers.py [--append]

txtai is set up as its quick start suggests (`Embeddings(path=model, content=True)`,
`index`, `search`), offline, with the same packaged all-MiniLM-L6-v2 folder. It is
given each article split into its non-empty lines (paragraphs), as a user would;
its answers are those paragraphs, so its answer hit@3 counts an answer string
anywhere in a whole paragraph, where this engine's counts it inside a quote of one to
three sentences: the comparison flatters txtai there. txtai does not abstain, so the
eval figures are over the answerable test rows only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.timing import cold_runs, interleaved, write_results  # noqa: E402
from eval.rows import Row, load_rows  # noqa: E402
from rag import Assistant  # noqa: E402
from rag.corpus import default_index_dir  # noqa: E402
from rag.text import normalize  # noqa: E402

REPEATS = 10
TXTAI_COLD = (
    "import time, sys; t = time.perf_counter(); from txtai import Embeddings; "
    "e = Embeddings(); e.load(sys.argv[1]); e.search('What did Rutte say about China?', 3); "
    "print(time.perf_counter() - t)"
)
RAG_COLD = (
    "import time, sys; t = time.perf_counter(); from rag import Assistant; "
    "Assistant(sys.argv[1], sys.argv[2]).ask('What did Rutte say about China?'); "
    "print(time.perf_counter() - t)"
)


def paragraphs(corpus: Path) -> list[tuple[str, str, int, int]]:
    out = []
    for path in sorted(corpus.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        offset = 0
        for line in text.split("\n"):
            if line.strip():
                out.append((line, path.name, offset, offset + len(line)))
            offset += len(line) + 1
    return out


def cold(code: str, *args: str) -> float:
    return statistics.median(seconds for seconds, _ in cold_runs(code, args, 3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--append",
        action="store_true",
        help="write into bench/RESULTS.md, replacing its earlier table",
    )
    args = parser.parse_args()
    from txtai import Embeddings

    corpus = ROOT / "seeds"
    rows = [r for r in load_rows(ROOT / "eval" / "qa.jsonl") if r.split == "test" and r.answerable]
    questions = [r.question for r in rows]
    tmp = Path(tempfile.mkdtemp())
    try:
        # Builds, each after its model is loaded.
        assistant = Assistant(corpus, default_index_dir(corpus, ROOT / "index"))
        assistant.embedder.encode(["load the model first"])
        from rag import store

        t = time.perf_counter()
        store.sync(
            tmp / "rag-index", assistant.documents(), assistant.embedder, assistant.settings.index
        )
        rag_build = time.perf_counter() - t
        paras = paragraphs(corpus)
        emb = Embeddings(path=str(assistant.embedder.ref.path), content=True)
        emb.index([(i, p[0], None) for i, p in enumerate(paras)])  # loads its model
        t = time.perf_counter()
        emb.index([(i, p[0], None) for i, p in enumerate(paras)])
        txtai_build = time.perf_counter() - t
        emb.save(str(tmp / "txtai-index"))

        # Warm latency.
        rag_times, txtai_times = interleaved(
            questions, REPEATS, assistant.ask, lambda q: emb.search(q, 3)
        )

        # Eval: answer hit@3 and source recall@3 on the answerable test rows.
        def score(texts_sources: list[tuple[str, str]], row: Row) -> tuple[bool, bool]:
            answers = [normalize(a) for g in row.golds for a in g.answers]
            hit = any(any(a in normalize(t) for a in answers) for t, _ in texts_sources[:3])
            src = any(s == g.source for _, s in texts_sources[:3] for g in row.golds)
            return hit, src

        rag_scores, txtai_scores = [], []
        for row in rows:
            answer = assistant.ask(row.question)
            rag_scores.append(score([(q.text, q.source) for q in answer.quotes], row))
            found = emb.search(row.question, 3)
            txtai_scores.append(score([(f["text"], paras[int(f["id"])][1]) for f in found], row))

        rag_cold = cold(RAG_COLD, str(corpus), str(default_index_dir(corpus, ROOT / "index")))
        txtai_cold = cold(TXTAI_COLD, str(tmp / "txtai-index"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    def mean(values: list[bool]) -> float:
        return sum(values) / len(values)

    figures = [
        (
            "index build (model loaded)",
            f"{rag_build:.2f} s",
            f"{txtai_build:.2f} s",
            rag_build / txtai_build,
        ),
        (
            "warm question p50",
            f"{statistics.median(rag_times):.1f} ms",
            f"{statistics.median(txtai_times):.1f} ms",
            statistics.median(rag_times) / statistics.median(txtai_times),
        ),
        (
            "cold question (new process, saved index)",
            f"{rag_cold:.2f} s",
            f"{txtai_cold:.2f} s",
            rag_cold / txtai_cold,
        ),
        (
            "test answer hit@3 (answerable rows)",
            f"{mean([h for h, _ in rag_scores]):.3f}",
            f"{mean([h for h, _ in txtai_scores]):.3f}",
            None,
        ),
        (
            "test source recall@3",
            f"{mean([s for _, s in rag_scores]):.3f}",
            f"{mean([s for _, s in txtai_scores]):.3f}",
            None,
        ),
    ]
    lines = [
        "",
        f"## Peers: txtai (`python bench/peers.py`), same corpus and model, {len(rows)} answerable test rows",
        "",
        "| figure | this engine | txtai | ratio (engine / txtai) |",
        "|---|---|---|---|",
    ]
    for name, ours, theirs, ratio in figures:
        lines.append(f"| {name} | {ours} | {theirs} | {'' if ratio is None else f'{ratio:.2f}'} |")
    lines += [
        "",
        "txtai answers with whole paragraphs (lines), this engine with one to three sentences; "
        "txtai does not abstain or cite offsets.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.append:
        write_results(text)


if __name__ == "__main__":
    main()
