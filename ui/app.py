"""The Gradio chat over the engine: cited quotes, the source with the quote highlighted, and
the corpus beside it (its people, its articles, adding more).

Formatting only: every answer comes from `rag.Assistant`. Article text is always
escaped before it reaches the page, so markup in an article never runs or renders.

    python ui/app.py        # http://127.0.0.1:7860 (GRADIO_SERVER_NAME / _PORT honoured)
"""

from __future__ import annotations

import html
import logging
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# One BLAS thread per product, set before NumPy loads (the environment may say otherwise):
# the page answers several questions at once, and on 2 busy cores two threads per small
# product made embedding a question 1.0 s against 35 ms, a cold build 5.5 s against 3.6 s
# (bench/start.py, bench/RESULTS.md).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import gradio as gr  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from rag import Answer, Assistant, CorpusError, Document, IndexNotReady, Quote, RagError  # noqa: E402
from rag.answer import escape_markdown, short_title  # noqa: E402
from ui.corpus import (  # noqa: E402
    PAGE_SIZE,
    Catalogue,
    CorpusView,
    Listing,
    person_question,
    placeholder,
)

UPLOAD_TYPES = [".txt", ".md"]
QUOTE_COLOUR = "#ffe066"
CONTEXT_COLOUR = "#fff4c2"  # the sentences around a quote: the same colour, paler
CSS = f"""
#evidence {{ max-height: 560px; overflow-y: auto; }}
#evidence .article {{ white-space: pre-wrap; font-family: inherit; line-height: 1.5; }}
#evidence mark {{ background: {QUOTE_COLOUR}; color: #000; padding: 0 2px; }}
#evidence .context {{ background: {CONTEXT_COLOUR}; }}
#people, #articles {{ max-height: 520px; overflow-y: auto; }}
#people tr, #articles tr {{ cursor: pointer; }}
"""
# Scroll the article panel itself, never the page, so the chat stays in view: to the
# quote, or to the top of an article shown whole.
SCROLL_JS = """() => { setTimeout(() => {
  const box = document.querySelector('#evidence .evidence-scroll');
  const m = document.querySelector('#evidence mark');
  if (box) box.scrollTop = m ? Math.max(0, m.offsetTop - box.offsetTop - box.clientHeight / 3) : 0;
}, 80); }"""
ROLE_CHARS = 28  # a role longer than this is shortened in the people table


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


def article_html(document: Document) -> str:
    """A whole article as text, nothing marked (an article chosen from the list)."""
    return (
        f"<h3>{html.escape(short_title(document.title))}</h3>"
        f"<p><code>{html.escape(document.source)}</code>, the whole article "
        f"({len(document.text):,} characters)</p>"
        '<div class="evidence-scroll" style="max-height: 520px; overflow-y: auto; '
        'position: relative">'
        f'<div class="article" style="white-space: pre-wrap">{html.escape(document.text)}</div>'
        "</div>"
    )


def people_rows(listing: Listing) -> list[list]:
    """A page of people as the table shows them: name, role (shortened), sentences, articles."""
    return [
        [name, short_title(role, ROLE_CHARS), said, articles]
        for name, role, said, articles in listing.rows
    ]


def article_rows(listing: Listing) -> list[list]:
    """A page of articles as the table shows them: the title (shortened) and the file."""
    return [[short_title(title, 70), source] for title, source in listing.rows]


def listing_info(listing: Listing, noun: str, query: str = "") -> str:
    """How many match, and where the page stands: "12 of 3,259 people match “coach” · page 1 of 1"."""
    query = " ".join((query or "").split())
    if query:
        head = f"{listing.matches:,} of {listing.total:,} {noun} match “{escape_markdown(query)}”"
    else:
        head = f"{listing.total:,} {noun}"
    return f"{head} · page {listing.page} of {listing.pages}"


def corpus_summary(catalogue: Catalogue) -> str:
    articles, people = len(catalogue.documents), len(catalogue.people)
    return (
        f"**{articles:,}** article{'s' * (articles != 1)} · **{people:,}** "
        f"{'person' if people == 1 else 'people'} named, **{catalogue.quoted:,}** quoted"
    )


# --- What the page's events do ------------------------------------------------------------------


class Handlers:
    """The page's events as plain methods over one Assistant, callable without a browser."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.view = CorpusView(assistant)

    # -- the chat ---------------------------------------------------------------------------------
    def respond(
        self, message: str, chat: list, history: list[str]
    ) -> tuple[list, list[str], str, Any, Any, list[Quote]]:
        """A question asked in the chat: the new chat, history, citations and evidence."""
        try:
            answer = self.assistant.ask(message or "", history=history or [])
        except ValueError as exc:
            raise gr.Error(str(exc)) from exc
        except IndexNotReady as exc:  # the first index is still being built: say so in the chat
            chat = [
                *(chat or []),
                {"role": "user", "content": message},
                {"role": "assistant", "content": f"*{escape_markdown(str(exc))}*"},
            ]
            return chat, history or [], message, gr.update(), gr.update(), []
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

    def ask_example(
        self, sample: list | None, chat: list, history: list[str]
    ) -> tuple[list, list[str], str, Any, Any, list[Quote]]:
        """An example chosen: asked in the chat as a new question, never read as a follow-up
        ("What about X?" after "What did Y say?" would be Y on X)."""
        if not sample:
            raise gr.Error("Choose an example first.")
        return self.respond(str(sample[0]), chat, [])

    def ask_person(
        self, row: list | None, chat: list, history: list[str]
    ) -> tuple[list, list[str], str, Any, Any, list[Quote]]:
        """A person chosen in the people panel: "What did <name> say?" asked in the chat."""
        if not row:
            raise gr.Error("Choose a person first.")
        return self.respond(person_question(str(row[0])), chat, history)

    def examples(self) -> tuple[Any, Any]:
        """The examples under the chat and the question box's hint, from the corpus now."""
        examples = self.view.examples()
        return (
            gr.update(samples=[[q] for q in examples], visible=bool(examples)),
            gr.update(placeholder=placeholder(examples)),
        )

    # -- the evidence -----------------------------------------------------------------------------
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

    def show_article(self, row: list | None) -> tuple[str, Any]:
        """An article chosen in the list: shown whole in the evidence panel; no citation chosen."""
        if not row:
            raise gr.Error("Choose an article first.")
        source = str(row[-1])
        try:
            page = article_html(self.assistant.document(source))
        except KeyError:
            page = f"<p>{html.escape(source)} is no longer in the corpus.</p>"
        return page, gr.update(value=None)

    # -- the corpus panel: people, articles, adding ---------------------------------------------
    def people(self, query: str = "", page: int = 1) -> tuple[Any, str, int, Any, Any]:
        """A page of the people matching `query`: table, count and page, previous, next."""
        listing = self.view.catalogue().find_people(query, page)
        return _paged(people_rows(listing), listing, listing_info(listing, "people", query))

    def people_next(self, query: str, page: int) -> tuple[Any, str, int, Any, Any]:
        return self.people(query, page + 1)

    def people_previous(self, query: str, page: int) -> tuple[Any, str, int, Any, Any]:
        return self.people(query, page - 1)

    def articles(self, query: str = "", page: int = 1) -> tuple[Any, str, int, Any, Any]:
        """A page of the articles whose title or file name matches `query`."""
        listing = self.view.catalogue().find_articles(query, page)
        return _paged(article_rows(listing), listing, listing_info(listing, "articles", query))

    def articles_next(self, query: str, page: int) -> tuple[Any, str, int, Any, Any]:
        return self.articles(query, page + 1)

    def articles_previous(self, query: str, page: int) -> tuple[Any, str, int, Any, Any]:
        return self.articles(query, page - 1)

    def summary(self) -> str:
        return corpus_summary(self.view.catalogue())

    # -- indexing -------------------------------------------------------------------------------
    def status(self) -> str:
        """The line over the page while the corpus is indexed; "" once it is up to date."""
        building = self.assistant.building()
        if not building:
            return ""
        ready = bool(self.assistant.documents())
        since = (
            "Questions are answered from the last complete index meanwhile."
            if ready
            else "There is nothing to answer from until it is done."
        )
        return f"**Indexing.** {escape_markdown(building)} {since}"

    def tick(self, shown: bool, people: str = "", articles: str = "") -> tuple[Any, ...]:
        """Each second while indexing: the status line; once the index is up to date, the
        page's lists (still filtered by what their filter boxes hold: `people`,
        `articles`), counts and examples afresh and the timer stopped. `shown`: whether
        this page has shown the up-to-date index (a page state)."""
        line = self.status()
        if line or shown:
            keep = [gr.skip()] * (1 + 5 + 5 + 2)
            return (
                gr.update(value=line, visible=bool(line)),
                gr.Timer(active=bool(line)),
                shown,
                *keep,
            )
        return (
            gr.update(value="", visible=False),
            gr.Timer(active=False),
            True,
            self.summary(),
            *self.people(people),
            *self.articles(articles),
            *self.examples(),
        )

    def load(self, people: str = "", articles: str = "") -> tuple[Any, ...]:
        """On each page load: the status line as it is now (the page is built once, at
        start, while indexing, so its own would be stale), the timer ticking while
        indexing, and the lists, counts and examples of the index now."""
        line = self.status()
        return (
            gr.update(value=line, visible=bool(line)),
            gr.Timer(active=bool(line)),
            not line,
            self.summary(),
            *self.people(people),
            *self.articles(articles),
            *self.examples(),
        )

    def upload(self, files: list[str] | None) -> str:
        """Add each file to the corpus; what became of each."""
        if not files:
            return "Choose one or more .txt or .md files first."
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
        return "\n\n".join(lines)

    def ask_api(self, question: str) -> dict:
        """Answer a question: the cited Markdown, the quotes with their offsets, and more.

        The same JSON as `rag ask --json`: `Answer.to_dict()`.
        """
        try:
            return self.assistant.ask(question).to_dict()
        except (ValueError, IndexNotReady) as exc:
            raise gr.Error(str(exc)) from exc


def _paged(rows: list[list], listing: Listing, info: str) -> tuple[Any, str, int, Any, Any]:
    return (
        gr.update(samples=rows),
        info,
        listing.page,
        gr.update(interactive=listing.page > 1),
        gr.update(interactive=listing.page < listing.pages),
    )


# --- The page -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pager:
    """A filtered, paged table: the filter box, the table, its count, page and buttons."""

    query: gr.Textbox
    table: gr.Dataset
    info: gr.Markdown
    page: gr.State
    previous: gr.Button
    next: gr.Button

    @property
    def shown(self) -> list[Any]:
        return [self.table, self.info, self.page, self.previous, self.next]


@dataclass(frozen=True)
class Page:
    """The components events read and write."""

    chat: gr.Chatbot
    history: gr.State
    quotes: gr.State
    question: gr.Textbox
    send: gr.Button
    examples: gr.Dataset
    citations: gr.Radio
    evidence: gr.HTML
    summary: gr.Markdown
    people: Pager
    articles: Pager
    files: gr.File
    add: gr.Button
    status: gr.Markdown
    indexing: gr.Markdown  # the line saying how far indexing has got, while it runs
    timer: gr.Timer  # ticks while indexing
    up_to_date: gr.State  # whether this page shows the up-to-date index


def _pager(
    name: str, placeholder: str, headers: list[str], kinds: list[str], label: str, first: tuple
) -> Pager:
    table_update, info, page, previous, following = first
    query = gr.Textbox(
        placeholder=placeholder, show_label=False, elem_id=f"{name}-filter", max_lines=1
    )
    info_md = gr.Markdown(info, elem_id=f"{name}-info")
    table = gr.Dataset(
        components=kinds,
        headers=headers,
        samples=table_update["samples"],
        samples_per_page=PAGE_SIZE,
        layout="table",
        label=label,
        elem_id=name,
    )
    with gr.Row():
        prev_btn = gr.Button(
            "← Previous",
            size="sm",
            min_width=60,
            elem_id=f"{name}-previous",
            interactive=previous["interactive"],
        )
        next_btn = gr.Button(
            "Next →",
            size="sm",
            min_width=60,
            elem_id=f"{name}-next",
            interactive=following["interactive"],
        )
    return Pager(query, table, info_md, gr.State(page), prev_btn, next_btn)


def _layout(handlers: Handlers) -> Page:
    """The corpus on the left (people, articles, adding), the chat, the evidence on the right."""
    gr.Markdown(
        "# Ask the articles\nEvery answer is made only of verbatim quotes from the articles, "
        "each cited. When nothing in them answers, it says so."
    )
    # Hidden until the page's load event says whether the corpus is being indexed now.
    indexing = gr.Markdown("", visible=False, elem_id="index-status")
    timer = gr.Timer(1.0, active=False)
    up_to_date = gr.State(False)
    history, quotes = gr.State([]), gr.State([])
    examples = handlers.view.examples()
    with gr.Row():
        with gr.Column(scale=5, min_width=360, elem_id="corpus"):
            summary = gr.Markdown(handlers.summary(), elem_id="corpus-summary")
            with gr.Tabs(elem_id="corpus-tabs"):
                with gr.Tab("People", elem_id="people-tab"):
                    people = _pager(
                        "people",
                        "Filter by name or role",
                        ["Person", "Role", "Sentences", "Articles"],
                        ["textbox", "textbox", "number", "number"],
                        "Choose a person to ask what they said",
                        handlers.people(),
                    )
                with gr.Tab("Articles", elem_id="articles-tab"):
                    articles = _pager(
                        "articles",
                        "Search titles and file names",
                        ["Title", "File"],
                        ["textbox", "textbox"],
                        "Choose an article to read it",
                        handlers.articles(),
                    )
                with gr.Tab("Add articles", elem_id="add-tab"):
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
        with gr.Column(scale=6):
            chat = gr.Chatbot(
                label="Chat", elem_id="chat", height=480, feedback_options=None, buttons=["copy"]
            )
            with gr.Row():
                question = gr.Textbox(
                    placeholder=placeholder(examples),
                    show_label=False,
                    elem_id="question",
                    scale=5,
                    max_lines=4,
                )
                send = gr.Button("Ask", variant="primary", elem_id="send", scale=1, min_width=80)
            example_set = gr.Dataset(
                components=[question],
                samples=[[q] for q in examples],
                label="Examples from these articles",
                elem_id="examples",
                visible=bool(examples),
            )
        with gr.Column(scale=5):
            citations = gr.Radio(
                choices=[],
                label="Citations: choose one to see it in its article",
                elem_id="citations",
            )
            evidence = gr.HTML(
                "<p>Ask a question or choose an article; it shows here.</p>",
                elem_id="evidence",
            )
    return Page(
        chat,
        history,
        quotes,
        question,
        send,
        example_set,
        citations,
        evidence,
        summary,
        people,
        articles,
        files,
        add,
        status,
        indexing,
        timer,
        up_to_date,
    )


def _wire_pager(pager: Pager, first: Any, following: Any, previous: Any) -> None:
    """Typing filters from page 1; the buttons turn the page, keeping the filter."""
    quiet: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden"}
    pager.query.change(first, pager.query, pager.shown, trigger_mode="always_last", **quiet)
    pager.next.click(following, [pager.query, pager.page], pager.shown, **quiet)
    pager.previous.click(previous, [pager.query, pager.page], pager.shown, **quiet)


def build_demo(assistant: Assistant) -> gr.Blocks:
    handlers = Handlers(assistant)
    with gr.Blocks(title="Quotes, not guesses — news Q&A", fill_width=True) as demo:
        page = _layout(handlers)
        asked = [page.question, page.chat, page.history]
        shown = [page.chat, page.history, page.question, page.citations, page.evidence, page.quotes]
        private: dict[str, Any] = {"api_visibility": "private"}
        for event in (page.send.click, page.question.submit):
            event(handlers.respond, asked, shown, **private).then(None, js=SCROLL_JS)
        chat_state = [page.chat, page.history]
        page.examples.click(
            handlers.ask_example, [page.examples, *chat_state], shown, **private
        ).then(None, js=SCROLL_JS)
        page.people.table.click(
            handlers.ask_person, [page.people.table, *chat_state], shown, **private
        ).then(None, js=SCROLL_JS)
        page.articles.table.click(
            handlers.show_article, page.articles.table, [page.evidence, page.citations], **private
        ).then(None, js=SCROLL_JS)
        page.citations.input(
            handlers.show_evidence, [page.citations, page.quotes], page.evidence, **private
        ).then(None, js=SCROLL_JS)
        _wire_pager(page.people, handlers.people, handlers.people_next, handlers.people_previous)
        _wire_pager(
            page.articles, handlers.articles, handlers.articles_next, handlers.articles_previous
        )
        # After an upload the lists, counts and examples are the new snapshot's.
        page.add.click(handlers.upload, page.files, page.status, **private).then(
            handlers.articles,
            [page.articles.query, page.articles.page],
            page.articles.shown,
            **private,
        ).then(
            handlers.people, [page.people.query, page.people.page], page.people.shown, **private
        ).then(handlers.summary, None, page.summary, **private).then(
            handlers.examples, None, [page.examples, page.question], **private
        )
        refreshed = [
            page.indexing,
            page.timer,
            page.up_to_date,
            page.summary,
            *page.people.shown,
            *page.articles.shown,
            page.examples,
            page.question,
        ]
        # A filter typed while the page was still loading may have been read before it
        # was typed, or not sent at all: once loaded, the lists show what the boxes hold.
        demo.load(
            handlers.load,
            [page.people.query, page.articles.query],
            refreshed,
            show_progress="hidden",
            **private,
        ).then(
            handlers.people, page.people.query, page.people.shown, show_progress="hidden", **private
        ).then(
            handlers.articles,
            page.articles.query,
            page.articles.shown,
            show_progress="hidden",
            **private,
        )
        page.timer.tick(
            handlers.tick,
            [page.up_to_date, page.people.query, page.articles.query],
            refreshed,
            show_progress="hidden",
            **private,
        )
        gr.api(handlers.ask_api, api_name="ask")
    return demo


def index_in_background(assistant: Assistant) -> None:
    """Bring the index up to date (the page shows how far it has got); log what was skipped."""
    try:
        report = assistant.sync()
    except RagError as exc:  # the page says so too (Assistant.building)
        logging.error("indexing failed: %s", exc)
        return
    for source, reason in report.skipped:
        logging.warning("skipped %s: %s", source, reason)
    logging.info("index up to date: %d articles", report.documents)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    corpus = os.environ.get("RAG_CORPUS_DIR", str(ROOT / "seeds"))
    from rag.corpus import default_index_dir  # the corpus folder's own index, as the CLI's

    index = os.environ.get("RAG_INDEX_DIR") or default_index_dir(corpus, ROOT / "index")
    # The page is served at once from the last complete index (or says the index is
    # being built) while the corpus folder is read and indexed in the background.
    assistant = Assistant(corpus, index, progress=True, build=False)
    threading.Thread(target=index_in_background, args=(assistant,), daemon=True).start()
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
