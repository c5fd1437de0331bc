"""The Gradio chat over the engine: cited quotes, the source with the quote highlighted, uploads.

Formatting only: every answer comes from `rag.Assistant`. Article text is always
escaped before it reaches the page, so markup in an article never runs or renders.

    python ui/app.py        # http://127.0.0.1:7860 (GRADIO_SERVER_NAME / _PORT honoured)
"""

from __future__ import annotations

import html
import logging
import os
import sys
from pathlib import Path
from typing import Any

import gradio as gr

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from rag import Answer, Assistant, CorpusError, Document, RagError  # noqa: E402
from rag.answer import short_title  # noqa: E402

EXAMPLES = [
    "What did Rutte say about China?",
    "Where is Trump planning to meet Putin?",
    "What did Rutte say about Russia's peace deal offers?",
    "Could sending fewer weapons hurt Kyiv at the bargaining table?",
]
UPLOAD_TYPES = [".txt", ".md"]
CSS = """
#evidence { max-height: 560px; overflow-y: auto; }
#evidence .article { white-space: pre-wrap; font-family: inherit; line-height: 1.5; }
#evidence mark { background: #ffe066; color: #000; padding: 0 2px; }
"""
# Scroll the article panel itself, never the page, so the chat stays in view.
SCROLL_JS = """() => { setTimeout(() => {
  const box = document.querySelector('#evidence .evidence-scroll');
  const m = document.querySelector('#evidence mark');
  if (box && m) box.scrollTop = Math.max(0, m.offsetTop - box.offsetTop - box.clientHeight / 3);
}, 80); }"""


# --- Pure formatting, tested without a browser ------------------------------------------------


def format_answer(answer: Answer) -> str:
    """The chat message for an answer: the engine's cited Markdown, plus how it was read."""
    text = answer.markdown
    if answer.resolved_question != answer.question.strip():
        from rag.answer import escape_markdown

        text = f"*Understood as: {escape_markdown(answer.resolved_question)}*\n\n{text}"
    return text


def citation_label(n: int, title: str, source: str, start: int, end: int) -> str:
    return f"[{n}] {short_title(title)} — {source} ({start}–{end})"


def citation_choices(answer: Answer) -> list[tuple[str, str]]:
    """One choice per quote and per other place it stands, numbered like the message."""
    choices = []
    for n, q in enumerate(answer.quotes, 1):
        for c in (q.citation, *q.also):
            label = citation_label(n, c.title, c.source, c.start, c.end)
            if q.speaker:
                label = f"{label} — {q.speaker}"
            choices.append((label, f"{c.start}:{c.end}:{c.source}"))
    return choices


def parse_choice(value: str) -> tuple[str, int, int]:
    start, end, source = value.split(":", 2)
    return source, int(start), int(end)


def evidence_html(document: Document, start: int, end: int) -> str:
    """The whole article as text, the quoted span marked; everything escaped."""
    text = document.text
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    return (
        f"<h3>{html.escape(short_title(document.title))}</h3>"
        f"<p><code>{html.escape(document.source)}</code>, characters {start}–{end}</p>"
        '<div class="evidence-scroll" style="max-height: 520px; overflow-y: auto; '
        'position: relative">'
        f'<div class="article" style="white-space: pre-wrap">{html.escape(text[:start])}'
        f'<mark style="background: #ffe066; color: #000">{html.escape(text[start:end])}</mark>'
        f"{html.escape(text[end:])}</div></div>"
    )


def articles_markdown(documents: list[Document]) -> str:
    from rag.answer import escape_markdown

    if not documents:
        return "*No articles yet.*"
    lines = [f"{len(documents)} articles:", ""]
    lines += [
        f"- {escape_markdown(short_title(d.title))} ({escape_markdown(d.source)})"
        for d in documents
    ]
    return "\n".join(lines)


def answer_json(answer: Answer) -> dict[str, Any]:
    """The structured answer the `ask` API endpoint returns."""
    return {
        "answer": answer.markdown,
        "abstained": answer.abstained,
        "resolved_question": answer.resolved_question,
        "quotes": [
            {
                "text": q.text,
                "source": q.source,
                "title": q.title,
                "start": q.start,
                "end": q.end,
                "score": q.score,
                "also": [
                    {"source": c.source, "title": c.title, "start": c.start, "end": c.end}
                    for c in q.also
                ],
            }
            for q in answer.quotes
        ],
    }


# --- The app ----------------------------------------------------------------------------------


def build_demo(assistant: Assistant) -> gr.Blocks:
    def respond(message: str, chat: list, history: list[str]):  # noqa: ANN202
        try:
            answer = assistant.ask(message or "", history=history or [])
        except ValueError as exc:
            raise gr.Error(str(exc)) from exc
        chat = [
            *(chat or []),
            {"role": "user", "content": message},
            {"role": "assistant", "content": format_answer(answer)},
        ]
        history = [*(history or []), answer.resolved_question]
        choices = citation_choices(answer)
        first = choices[0][1] if choices else None
        evidence = show_evidence(first) if first else "<p>No quote to show.</p>"
        return chat, history, "", gr.update(choices=choices, value=first), evidence

    def show_evidence(choice: str | None) -> str:
        if not choice:
            return "<p>Choose a citation to see it in its article.</p>"
        source, start, end = parse_choice(choice)
        try:
            document = assistant.document(source)
        except KeyError:
            return f"<p>{html.escape(source)} is no longer in the corpus.</p>"
        return evidence_html(document, start, end)

    def upload(files: list[str] | None):  # noqa: ANN202
        if not files:
            return "Choose one or more .txt or .md files first.", articles_markdown(
                assistant.documents()
            )
        lines = []
        for path in files:
            name = os.path.basename(path)
            try:
                data = Path(path).read_bytes()
                assistant.add_article(name, data)
                lines.append(f"**Added** {name}: saved and indexed")
            except (CorpusError, OSError) as exc:
                lines.append(f"**Refused** {exc}")
            except RagError as exc:
                lines.append(f"**Refused** {name}: {exc}")
        return "\n\n".join(lines), articles_markdown(assistant.documents())

    def ask_api(question: str) -> dict:
        """Answer a question; returns the cited Markdown and the quotes with their offsets."""
        try:
            return answer_json(assistant.ask(question))
        except ValueError as exc:
            raise gr.Error(str(exc)) from exc

    with gr.Blocks(title="Quotes, not guesses — news Q&A") as demo:
        gr.Markdown(
            "# Ask the articles\nEvery answer is made only of verbatim quotes from the articles, "
            "each cited. When nothing in them answers, it says so."
        )
        history = gr.State([])
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(
                    label="Chat",
                    elem_id="chat",
                    height=480,
                    feedback_options=None,
                    buttons=["copy"],
                )
                with gr.Row():
                    question = gr.Textbox(
                        placeholder="Ask about the articles, e.g. What did Rutte say about China?",
                        show_label=False,
                        elem_id="question",
                        scale=5,
                        max_lines=4,
                    )
                    send = gr.Button("Ask", variant="primary", elem_id="send", scale=1)
                gr.Examples(EXAMPLES, inputs=question, label="Examples")
            with gr.Column(scale=2):
                citations = gr.Radio(
                    choices=[],
                    label="Citations: choose one to see it in its article",
                    elem_id="citations",
                )
                evidence = gr.HTML(
                    "<p>Ask a question; the article of the first quote shows here.</p>",
                    elem_id="evidence",
                )
        with gr.Accordion("Articles in the corpus, and adding more", open=False):
            articles = gr.Markdown(articles_markdown(assistant.documents()), elem_id="articles")
            files = gr.File(
                label="Add articles (.txt or .md, UTF-8, at most "
                f"{assistant.settings.max_file_bytes // 1_000_000} MB each)",
                file_count="multiple",
                file_types=UPLOAD_TYPES,
                type="filepath",
                elem_id="upload",
            )
            add = gr.Button("Add to corpus", elem_id="add")
            status = gr.Markdown(elem_id="upload-status")

        outputs = [chat, history, question, citations, evidence]
        for event in (send.click, question.submit):
            event(respond, [question, chat, history], outputs, api_visibility="private").then(
                None, js=SCROLL_JS
            )
        citations.input(show_evidence, citations, evidence, api_visibility="private").then(
            None, js=SCROLL_JS
        )
        add.click(upload, files, [status, articles], api_visibility="private")
        gr.api(ask_api, api_name="ask")
    return demo


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    corpus = os.environ.get("RAG_CORPUS_DIR", str(ROOT / "seeds"))
    index = os.environ.get("RAG_INDEX_DIR", str(ROOT / "index"))
    assistant = Assistant(corpus, index, progress=True)
    for source, reason in assistant.report.skipped:
        logging.warning("skipped %s: %s", source, reason)
    demo = build_demo(assistant)
    # Questions take milliseconds and the Assistant is thread-safe: a few run at once.
    demo.queue(default_concurrency_limit=4, max_size=512)
    demo.launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        share=False,
        max_file_size=assistant.settings.max_file_bytes,
        css=CSS,
        footer_links=["api"],
    )


if __name__ == "__main__":
    main()
