"""The `rag` command: `rag index`, `rag ask`, `rag people`. Parses, calls the API, prints.

Errors print one line to stderr and exit non-zero, never a traceback. Without
--index-dir each corpus folder has its own index folder under index/ (see
`rag.corpus.default_index_dir`). Answers print as plain text unless --markdown or --json
is given; progress bars, when something is analysed or embedded, go to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag",
        description="Answer questions about news articles with verbatim, cited quotes only.",
    )
    parser.add_argument(
        "--index-dir",
        default=None,
        help="where the index is kept (default: the corpus folder's own, index/<folder>-<hash>)",
    )
    parser.add_argument(
        "--model",
        default=None,
        help="sentence-transformers model name or folder (default: packaged all-MiniLM-L6-v2)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_index = sub.add_parser("index", help="build or update the index of a corpus folder")
    p_index.add_argument(
        "corpus", nargs="?", default="seeds", help="corpus folder (default: seeds)"
    )
    p_ask = sub.add_parser("ask", help="ask a question")
    p_ask.add_argument("question")
    p_ask.add_argument("--corpus", default="seeds", help="corpus folder (default: seeds)")
    p_ask.add_argument("-k", type=int, default=None, help="at most this many quotes (1-20)")
    form = p_ask.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="print the answer as JSON")
    form.add_argument(
        "--markdown", action="store_true", help="print the answer as Markdown (as the UI shows it)"
    )
    p_people = sub.add_parser("people", help="list the people the articles name, most quoted first")
    p_people.add_argument("--corpus", default="seeds", help="corpus folder (default: seeds)")
    p_people.add_argument("--json", action="store_true", help="print the people as JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    # Heavy imports only once the arguments are known, so that --help stays instant.
    from rag.assistant import Assistant
    from rag.config import Settings
    from rag.errors import RagError

    settings = Settings(model=args.model)
    try:
        if args.command == "index":
            # Its summary names every file skipped, with the reason: the log need not too.
            logging.getLogger("rag.corpus").setLevel(logging.ERROR)
            assistant = Assistant(args.corpus, args.index_dir, settings, progress=True)
            r = assistant.report
            print(
                f"indexed {r.documents} articles in {assistant.index_dir}: {len(r.added)} added, "
                f"{len(r.updated)} updated, {len(r.removed)} removed, "
                f"{r.embedded_sentences} sentences and {r.embedded_passages} passages embedded"
            )
            if r.rebuilt_because:
                print(f"rebuilt: {r.rebuilt_because}")
            for source, reason in r.skipped:
                print(f"skipped {source}: {reason}", file=sys.stderr)
            return 0
        if args.command == "ask":
            # A first question builds the index: the bars say so, on stderr.
            assistant = Assistant(args.corpus, args.index_dir, settings, progress=True)
            answer = assistant.ask(args.question, k=args.k)
            if args.json:
                print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=1))
            elif args.markdown:
                print(answer.markdown)
            else:
                print(answer.text)
            return 0
        if args.command == "people":
            assistant = Assistant(args.corpus, args.index_dir, settings, progress=True)
            people = assistant.people()
            if args.json:
                print(json.dumps([p.to_dict() for p in people], ensure_ascii=False, indent=1))
            else:
                for p in people:
                    roles = f" ({'; '.join(p.roles[:3])})" if p.roles else ""
                    print(
                        f"{p.name}{roles}: {p.sentences} sentences in {len(p.articles)} "
                        f"article{'s' if len(p.articles) != 1 else ''}"
                    )
            return 0
    except (RagError, ValueError, OSError) as exc:
        print(f"rag: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rag: interrupted", file=sys.stderr)
        return 130
    return 1


if __name__ == "__main__":
    sys.exit(main())
