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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from rag import Answer, Assistant, CorpusError, Document, Quote, RagError  # noqa: E402
from rag.answer import escape_markdown, short_title  # noqa: E402

EXAMPLES = [
    "What did Rutte say about China?",
    "Where is Trump planning to meet Putin?",
    "What did Rutte say about Russia's peace deal offers?",
    "Could sending fewer weapons hurt Kyiv at the bargaining table?",
]
UPLOAD_TYPES = [".txt", ".md"]
QUOTE_COLOUR = "#ffe066"
CONTEXT_COLOUR = "#fff4c2"  # the sentences around a quote: the same colour, paler
CSS = f"""
#evidence {{ max-height: 560px; overflow-y: auto; }}
#evidence .article {{ white-space: pre-wrap; font-family: inherit; line-height: 1.5; }}
#evidence mark {{ background: {QUOTE_COLOUR}; color: #000; padding: 0 2px; }}
#evidence .context {{ background: {CONTEXT_COLOUR}; }}
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


def evidence_html(
    document: Document, start: int, end: int, before: str = "", after: str = ""
) -> str:
    """The whole article as text, the quoted span marked; everything escaped.

    `before` and `after`, the sentences around the quote (`Quote.context_before` and
    `context_after`), are shaded in a paler colour where they stand next to it.
    """
    text = document.text
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    lead = text.rfind(before, 0, start) if before else -1
    lead = start if lead < 0 else lead
    tail = text.find(after, end) if after else -1
    tail = end if tail < 0 else tail + len(after)
    return (
        f"<h3>{html.escape(short_title(document.title))}</h3>"
        f"<p><code>{html.escape(document.source)}</code>, characters {start}–{end}</p>"
        '<div class="evidence-scroll" style="max-height: 520px; overflow-y: auto; '
        'position: relative">'
        f'<div class="article" style="white-space: pre-wrap">{html.escape(text[:lead])}'
        f"{_context(text[lead:start])}"
        f'<mark style="background: {QUOTE_COLOUR}; color: #000">{html.escape(text[start:end])}</mark>'
        f"{_context(text[end:tail])}{html.escape(text[tail:])}</div></div>"
    )


def _context(text: str) -> str:
    if not text:
        return ""
    return f'<span class="context" style="background: {CONTEXT_COLOUR}">{html.escape(text)}</span>'


def articles_markdown(documents: list[Document]) -> str:
    if not documents:
        return "*No articles yet.*"
    lines = [f"{len(documents)} articles:", ""]
    lines += [
        f"- {escape_markdown(short_title(d.title))} ({escape_markdown(d.source)})"
        for d in documents
    ]
    return "\n".join(lines)


# --- What the page's events do ------------------------------------------------------------------


class Handlers:
    """The page's events as plain methods over one Assistant, callable without a browser."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant

    def respond(
        self, message: str, chat: list, history: list[str]
    ) -> tuple[list, list[str], str, Any, str, list[Quote]]:
        """A question asked in the chat: the new chat, history, citations and evidence."""
        try:
            answer = self.assistant.ask(message or "", history=history or [])
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
        quotes = list(answer.quotes)
        evidence = self.show_evidence(first, quotes) if first else "<p>No quote to show.</p>"
        return chat, history, "", gr.update(choices=choices, value=first), evidence, quotes

    def show_evidence(self, choice: str | None, quotes: list[Quote] | None = None) -> str:
        """The article of a chosen citation, the quote marked (and its context, if its own)."""
        if not choice:
            return "<p>Choose a citation to see it in its article.</p>"
        source, start, end = parse_choice(choice)
        try:
            document = self.assistant.document(source)
        except KeyError:
            return f"<p>{html.escape(source)} is no longer in the corpus.</p>"
        own = next(
            (q for q in quotes or () if (q.source, q.start, q.end) == (source, start, end)), None
        )
        if own is None:
            return evidence_html(document, start, end)
        return evidence_html(document, start, end, own.context_before, own.context_after)

    def upload(self, files: list[str] | None) -> tuple[str, str]:
        """Add each file to the corpus; what became of each, and the articles now."""
        if not files:
            return "Choose one or more .txt or .md files first.", self.articles()
        lines = []
        for path in files:
            name = os.path.basename(path)
            try:
                self.assistant.add_article(name, Path(path).read_bytes())
                lines.append(f"**Added** {name}: saved and indexed")
            except (CorpusError, OSError) as exc:
                lines.append(f"**Refused** {exc}")
            except RagError as exc:
                lines.append(f"**Refused** {name}: {exc}")
        return "\n\n".join(lines), self.articles()

    def articles(self) -> str:
        return articles_markdown(self.assistant.documents())

    def ask_api(self, question: str) -> dict:
        """Answer a question: the cited Markdown, the quotes with their offsets, and more.

        The same JSON as `rag ask --json`: `Answer.to_dict()`.
        """
        try:
            return self.assistant.ask(question).to_dict()
        except ValueError as exc:
            raise gr.Error(str(exc)) from exc


# --- The page -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """The components events read and write."""

    chat: gr.Chatbot
    history: gr.State
    quotes: gr.State
    question: gr.Textbox
    send: gr.Button
    citations: gr.Radio
    evidence: gr.HTML
    articles: gr.Markdown
    files: gr.File
    add: gr.Button
    status: gr.Markdown


def _layout(handlers: Handlers) -> Page:
    """The chat on the left, the evidence on the right, the corpus below."""
    gr.Markdown(
        "# Ask the articles\nEvery answer is made only of verbatim quotes from the articles, "
        "each cited. When nothing in them answers, it says so."
    )
    history, quotes = gr.State([]), gr.State([])
    with gr.Row():
        with gr.Column(scale=3):
            chat = gr.Chatbot(
                label="Chat", elem_id="chat", height=480, feedback_options=None, buttons=["copy"]
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
        articles = gr.Markdown(handlers.articles(), elem_id="articles")
        megabytes = handlers.assistant.settings.max_file_bytes // 1_000_000
        files = gr.File(
            label=f"Add articles (.txt or .md, UTF-8, at most {megabytes} MB each)",
            file_count="multiple",
            file_types=UPLOAD_TYPES,
            type="filepath",
            elem_id="upload",
        )
        add = gr.Button("Add to corpus", elem_id="add")
        status = gr.Markdown(elem_id="upload-status")
    return Page(
        chat, history, quotes, question, send, citations, evidence, articles, files, add, status
    )


def build_demo(assistant: Assistant) -> gr.Blocks:
    handlers = Handlers(assistant)
    with gr.Blocks(title="Quotes, not guesses — news Q&A") as demo:
        page = _layout(handlers)
        asked = [page.question, page.chat, page.history]
        shown = [page.chat, page.history, page.question, page.citations, page.evidence, page.quotes]
        for event in (page.send.click, page.question.submit):
            event(handlers.respond, asked, shown, api_visibility="private").then(None, js=SCROLL_JS)
        page.citations.input(
            handlers.show_evidence,
            [page.citations, page.quotes],
            page.evidence,
            api_visibility="private",
        ).then(None, js=SCROLL_JS)
        page.add.click(
            handlers.upload, page.files, [page.status, page.articles], api_visibility="private"
        )
        gr.api(handlers.ask_api, api_name="ask")
    return demo


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    corpus = os.environ.get("RAG_CORPUS_DIR", str(ROOT / "seeds"))
    from rag.corpus import default_index_dir  # the corpus folder's own index, as the CLI's

    index = os.environ.get("RAG_INDEX_DIR") or default_index_dir(corpus, ROOT / "index")
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
