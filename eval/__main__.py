"""`python -m eval`: score the assistant on an eval set; write report.md, report.json, report.png.

    python -m eval                    # the seeds and eval/qa.jsonl, with ablations
    python -m eval --no-ablations     # the default configuration only

Errors print one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="seeds", help="corpus folder (default: seeds)")
    parser.add_argument("--index-dir", default="index", help="its index (default: index)")
    parser.add_argument("--set", default="eval/qa.jsonl", help="question-answer pairs (JSONL)")
    parser.add_argument("--out", default="eval", help="folder for report.md, report.json, chart")
    parser.add_argument("--no-ablations", action="store_true", help="score the default config only")
    parser.add_argument("--model", default=None, help="sentence-transformers model name or folder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    from eval.report import write_report
    from rag import Assistant, RagError, Settings

    try:
        assistant = Assistant(args.corpus, args.index_dir, Settings(model=args.model))
        written = write_report(assistant, Path(args.set), Path(args.out), not args.no_ablations)
    except (RagError, ValueError, OSError) as exc:
        print(f"eval: error: {exc}", file=sys.stderr)
        return 2
    print(written.table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
