"""`python -m eval`: score the assistant on every corpus present; write eval/report.md, .json, .png.

    python -m eval                    # every corpus in eval/corpora.py that is present
    python -m eval --corpus seeds     # one of them
    python -m eval --no-ablations     # the default configuration only

A corpus whose articles or question–answer file are absent is skipped with a message.
Errors print one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus", action="append", help="score this corpus of eval/corpora.py (repeatable)"
    )
    parser.add_argument("--out", default="eval", help="folder for report.md, report.json, chart")
    parser.add_argument("--no-ablations", action="store_true", help="score the default config only")
    parser.add_argument("--model", default=None, help="sentence-transformers model name or folder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    # The harness names the articles it could not index itself, once per corpus.
    logging.getLogger("rag.corpus").setLevel(logging.ERROR)
    from eval.ablations import ABLATIONS
    from eval.corpora import CORPORA, corpus, present
    from eval.harness import evaluate
    from eval.report import write
    from rag import RagError, Settings

    try:
        chosen = [corpus(name) for name in args.corpus] if args.corpus else list(CORPORA)
        found, skipped = present(chosen)
        for name, why in skipped.items():
            print(f"{name}: skipped, {why}")
        if not found:
            raise ValueError("no corpus to score")
        evaluation = evaluate(
            found, skipped, Settings(model=args.model), {} if args.no_ablations else ABLATIONS
        )
        written = write(evaluation, found, Path(args.out))
    except (RagError, ValueError, KeyError, OSError) as exc:
        print(f"eval: error: {exc.args[0] if isinstance(exc, KeyError) else exc}", file=sys.stderr)
        return 2
    for name, table in written.tables.items():
        print(f"{name}:\n{table}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
