"""The UI: formatting functions directly, the API through gradio_client, the page in Chromium."""

from __future__ import annotations

import html
import json
import re
import shutil
import socket
from dataclasses import fields
from pathlib import Path

import pytest

from rag import Answer, Assistant, Quote
from rag.answer import escape_markdown
from rag.types import Document
from ui.app import (
    Handlers,
    articles_markdown,
    build_demo,
    citation_choices,
    evidence_html,
    format_answer,
    parse_choice,
)

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HOSTILE = (
    "Hostile article about Greenland\n\n"
    "Rutte said Greenland <script>window.__pwned = 1</script> is safe.\n"
    'Rutte also said <img src=x onerror="window.__pwned = 2"> nothing more about Greenland.\n'
    "Read [the Greenland report](javascript:window.__pwned=3) and ![x](javascript:alert(1)).\n"
)


IN_VIEW = """() => {
  const box = document.querySelector('#evidence .evidence-scroll');
  const mark = document.querySelector('#evidence mark');
  if (!box || !mark) return false;
  const b = box.getBoundingClientRect(), m = mark.getBoundingClientRect();
  return m.top >= b.top - 1 && m.top < b.bottom;
}"""


def test_format_answer_is_the_cited_markdown(assistant: Assistant):
    answer = assistant.ask("What did Rutte say about China?")
    message = format_answer(answer)
    assert message.startswith("> ") and "[1] — Mark Rutte, in *CRBC News*" in message
    follow = assistant.ask("And about Iran?", history=["What did Rutte say about China?"])
    assert "Understood as: What did Rutte say about Iran?" in format_answer(follow)
    none = assistant.ask("Who won the 2022 FIFA World Cup?")
    assert "No supporting quote" in format_answer(none)


def test_citations_and_evidence_escape_and_mark_the_span(assistant: Assistant):
    answer = assistant.ask("What did Rutte say about China?")
    choices = citation_choices(answer)
    assert choices[0][0].startswith("[1] CRBC News — 000_81fe3f3830062f5a.txt")
    assert choices[0][0].endswith("— Mark Rutte")
    source, start, end = parse_choice(choices[0][1])
    page = evidence_html(assistant.document(source), start, end)
    assert ">Rutte also warned that China has become a crucial lifeline" in page
    assert page.count("<mark") == 1
    doc = Document("x.txt", "T <b>", "a <script>alert(1)</script> b", "0")
    page = evidence_html(doc, 2, 10)
    assert "<script>" not in page and "&lt;script&gt;" in page and "<b>" not in page


def test_the_evidence_panel_shades_the_sentences_around_the_quote(assistant: Assistant):
    handlers = Handlers(assistant)
    chat, history, _, citations, page, quotes = handlers.respond(
        "What did Rutte say about China?", [], []
    )
    first = quotes[0]
    assert history == ["What did Rutte say about China?"] and len(chat) == 2
    assert citations["value"] == f"{first.start}:{first.end}:{first.source}"
    assert first.context_before and first.context_after
    shaded = re.findall(r'<span class="context"[^>]*>(.*?)</span>', page, re.S)
    assert [html.unescape(t).strip() for t in shaded] == [
        first.context_before,
        first.context_after,
    ]
    assert page.index(html.escape(first.context_before)) < page.index("<mark")
    # Another place that says the same has no context of its own: only the mark.
    also = first.also[0]
    elsewhere = handlers.show_evidence(f"{also.start}:{also.end}:{also.source}", quotes)
    assert 'class="context"' not in elsewhere and elsewhere.count("<mark") == 1


def test_the_api_returns_the_answers_one_json_form(assistant: Assistant):
    question = "What did Rutte say about China?"
    data = Handlers(assistant).ask_api(question)
    assert data == assistant.ask(question).to_dict()
    assert set(data) == {f.name for f in fields(Answer)}
    assert set(data["quotes"][0]) == {f.name for f in fields(Quote)}
    assert data["quotes"][0]["speaker"] == "Mark Rutte" and data["confidence"] > 0
    assert json.loads(json.dumps(data)) == data  # plain JSON: lists, never tuples


def test_articles_are_listed_by_title_and_name_escaped(assistant: Assistant):
    listing = articles_markdown(assistant.documents())
    assert listing.startswith("5 articles:")
    assert listing.count("\n- ") == len(assistant.documents())
    assert all(f"({escape_markdown(d.source)})" in listing for d in assistant.documents())
    odd = Document("notes_*1*.md", "A *bold* [link](javascript:x)", "text", "0")
    listing = articles_markdown([odd])
    assert "\\*bold\\*" in listing and "[link]" not in listing and "notes\\_\\*1" in listing
    assert articles_markdown([]) == "*No articles yet.*"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app(corpus, fresh_index, embedder):
    assistant = Assistant(corpus, fresh_index, embedder=embedder)
    demo = build_demo(assistant)
    demo.queue(default_concurrency_limit=4)
    port = _free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/", assistant
    finally:
        demo.close()


def test_api_through_gradio_client(app):
    from gradio_client import Client

    url, assistant = app
    client = Client(url, verbose=False)
    data = client.predict("What did Rutte say about China?", api_name="/ask")
    assert data == assistant.ask("What did Rutte say about China?").to_dict()
    assert "crucial lifeline" in data["quotes"][0]["text"]
    q = data["quotes"][0]
    text = (assistant.corpus_dir / q["source"]).read_text(encoding="utf-8")
    assert text[q["start"] : q["end"]] == q["text"]
    assert client.predict("Who won the 2022 FIFA World Cup?", api_name="/ask")["quotes"] == []


@pytest.mark.browser
def test_a_person_asks_opens_a_citation_and_adds_an_article(app, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: run `make browser`")
    url, assistant = app
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        dialogs = []

        def dismiss(dialog) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", dismiss)
        page.goto(url)
        page.locator("#question textarea").fill("What did Rutte say about China?")
        page.locator("#send").click()
        bot = page.locator("#chat .message.bot, #chat [data-testid='bot']").last
        bot.wait_for(timeout=20000)
        page.get_by_text("crucial lifeline", exact=False).first.wait_for(timeout=20000)
        assert "CRBC News" in page.locator("#chat").inner_text()
        # The first citation's article is shown with the quote highlighted.
        mark = page.locator("#evidence mark")
        mark.wait_for(timeout=10000)
        assert "crucial lifeline" in mark.inner_text()
        # ... and scrolled into view inside the article panel.
        page.wait_for_function(IN_VIEW, timeout=10000)
        page.screenshot(path=str(ARTIFACTS / "answer.png"))
        # Choosing another citation moves the highlight.
        radios = page.locator("#citations label")
        assert radios.count() >= 2
        radios.nth(1).click()
        page.wait_for_function(
            "() => document.querySelector('#evidence mark')?.innerText.includes('China is a crucial')"
        )
        page.wait_for_function(IN_VIEW, timeout=10000)
        page.screenshot(path=str(ARTIFACTS / "citation.png"))
        # Upload a hostile article; ask about it; open it in the evidence panel.
        upload = tmp_path / "greenland.txt"
        upload.write_text(HOSTILE, encoding="utf-8")
        page.get_by_text("Articles in the corpus").click()
        page.locator("#upload input[type=file]").set_input_files(str(upload))
        page.locator("#add").click()
        page.get_by_text("greenland.txt: saved and indexed").wait_for(timeout=30000)
        page.locator("#question textarea").fill("What did Rutte say about Greenland?")
        page.locator("#send").click()
        page.wait_for_function(
            "() => document.querySelector('#evidence mark')?.innerText.includes('Greenland')",
            timeout=20000,
        )
        page.screenshot(path=str(ARTIFACTS / "upload.png"), full_page=True)
        assert page.evaluate("() => window.__pwned") is None
        assert dialogs == []
        assert page.locator("#evidence script, #evidence img, #chat img[src='x']").count() == 0
        assert "<script>" in page.locator("#evidence").inner_text()
        browser.close()
    # Saved beside the index, not into the corpus folder.
    assert (assistant.uploads_dir / "greenland.txt").exists()
    assert not (assistant.corpus_dir / "greenland.txt").exists()


def test_long_first_lines_are_shortened_for_display_only(assistant):
    answer = assistant.ask("What did Rutte say about Iran?")
    quote = next(q for q in answer.quotes if q.source.startswith("001"))
    assert quote.title.startswith("As rumors of peace talks") and len(quote.title) > 200
    label = next(label for label, _ in citation_choices(answer) if "001_" in label)
    assert "…" in label and len(label) < 160
    assert quote.title not in answer.markdown
    page = evidence_html(assistant.document(quote.source), quote.start, quote.end)
    assert quote.title not in page.split("</h3>")[0] and "…</h3>" in page
