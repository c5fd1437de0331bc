"""The UI: formatting functions directly, the API through gradio_client, the page in Chromium."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import socket
from dataclasses import fields
from pathlib import Path

import pytest

from rag import Answer, Assistant, Quote
from rag.types import Document
from ui.app import (
    Handlers,
    article_html,
    build_demo,
    citation_choices,
    evidence_html,
    format_answer,
    parse_choice,
    people_rows,
)
from ui.corpus import PAGE_SIZE, Catalogue, Listing, headline_topics, paginate, search_key

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
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


def test_a_chosen_article_is_shown_whole_and_escaped(assistant: Assistant):
    handlers = Handlers(assistant)
    document = assistant.documents()[0]
    page, citations = handlers.show_article([document.title, document.source])
    assert html.escape(document.text) in page and "<mark" not in page
    assert f"<code>{document.source}</code>" in page and citations["value"] is None
    odd = Document("x.md", "T <b>", "a <script>alert(1)</script> b", "0")
    assert "<script>" not in article_html(odd) and "&lt;script&gt;" in article_html(odd)
    gone, _ = handlers.show_article(["Gone", "gone.txt"])
    assert "gone.txt is no longer in the corpus" in gone


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
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
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
        page.get_by_role("tab", name="Add articles").click()
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


# --- The corpus panels, over a newsroom of invented people and places ---------------------------

NEWSROOM = {
    "economy/harbour-tolls.txt": (
        "Harbour tolls to rise in Marrowby\n\n"
        "Finance minister Ines Varga said on Monday that harbour tolls in Marrowby would rise "
        "by four percent next year.\n\n"
        '"We cannot keep the harbour open on goodwill alone," Ms Varga told reporters.\n\n'
        "Dock workers' leader Tomas Brenner said the rise would hurt small fishing crews.\n\n"
        '"Every boat in Marrowby will feel this," Mr Brenner said.\n'
    ),
    "economy/ferry-fares.txt": (
        "Ferry fares frozen for Marrowby islanders\n\n"
        "The ferry company will freeze fares for islanders until the spring, Ines Varga said.\n\n"
        '"Islanders should not pay for the storm damage," the finance minister added.\n'
    ),
    "sport/regatta.txt": (
        "Kestrel club wins the Vellmouth regatta\n\n"
        "Coach Odile Ferrant said her crew had trained through the winter for the race.\n\n"
        '"They rowed the last kilometre as if nobody else was on the river," Ferrant said.\n\n'
        "Club captain Piet Mallory said the win belonged to the whole town of Vellmouth.\n"
    ),
    **{
        f"notes/weather-{i:02d}.txt": (
            f"Weather note {i:02d} for Vellmouth\n\n"
            f"Rain fell on Vellmouth for {i} hours on day {i} of the month.\n"
        )
        for i in range(1, 23)
    },
}
# No one is quoted here: the examples must come from what the headlines name.
QUIET = {
    "floods.txt": (
        "Floods close the Orrin bridge\n\n"
        "The Orrin bridge was closed on Tuesday after the river rose two metres overnight.\n"
    ),
    "market.txt": (
        "Night market opens by the Orrin\n\n"
        "A night market opened on the east bank of the Orrin with forty stalls.\n"
    ),
    "library.txt": (
        "Tessaly opens a library\n\n"
        "Tessaly will open a library with ten thousand books in the old mill next spring.\n"
    ),
}


@pytest.fixture(scope="module")
def newsroom_index(
    tmp_path_factory: pytest.TempPathFactory, embedder, write_articles
) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("newsroom")
    corpus = write_articles(base / "corpus", NEWSROOM)
    Assistant(corpus, base / "index", embedder=embedder)
    return corpus, base / "index"


@pytest.fixture(scope="module")
def newsroom(newsroom_index, embedder) -> Assistant:
    return Assistant(*newsroom_index, embedder=embedder)


@pytest.fixture
def own_newsroom(newsroom_index, tmp_path, embedder) -> Assistant:
    """A private, writable copy of the newsroom and its index."""
    shutil.copytree(newsroom_index[0], tmp_path / "corpus")
    shutil.copytree(newsroom_index[1], tmp_path / "index")
    return Assistant(tmp_path / "corpus", tmp_path / "index", embedder=embedder)


def test_people_are_filtered_by_name_form_and_role(newsroom: Assistant):
    handlers = Handlers(newsroom)
    table, info, page, previous, following = handlers.people()
    assert [row[0] for row in table["samples"]] == [
        "Ines Varga",
        "Odile Ferrant",
        "Tomas Brenner",
        "Piet Mallory",
    ]
    assert table["samples"][0] == ["Ines Varga", "finance minister", 4, 2]
    assert info == "4 people · page 1 of 1" and page == 1
    assert previous["interactive"] is False and following["interactive"] is False
    for query, names in [
        ("coach", ["Odile Ferrant"]),  # a role
        ("Ms Varga", ["Ines Varga"]),  # a form the articles use
        ("  BRENNER ", ["Tomas Brenner"]),  # case and spaces do not matter
        ("Férrant", ["Odile Ferrant"]),  # nor accents
        ("captain mallory", ["Piet Mallory"]),  # every word, anywhere
        ("captain varga", []),
    ]:
        table, info, *_ = handlers.people(query)
        assert [row[0] for row in table["samples"]] == names, query
    assert handlers.people("coach")[1] == "1 of 4 people match “coach” · page 1 of 1"
    assert handlers.people("captain varga")[1].startswith("0 of 4 people match")


def test_articles_are_searched_by_title_or_file_and_paged(newsroom: Assistant):
    handlers = Handlers(newsroom)
    table, info, page, previous, following = handlers.articles()
    assert len(table["samples"]) == PAGE_SIZE == 20 and info == "25 articles · page 1 of 2"
    assert table["samples"][0] == [
        "Ferry fares frozen for Marrowby islanders",
        "economy/ferry-fares.txt",
    ]
    assert previous["interactive"] is False and following["interactive"] is True
    table, info, page, previous, following = handlers.articles_next("", page)
    assert page == 2 and info == "25 articles · page 2 of 2" and len(table["samples"]) == 5
    assert previous["interactive"] is True and following["interactive"] is False
    assert handlers.articles_next("", page)[2] == 2  # past the end: stays on the last page
    assert handlers.articles_previous("", page)[2] == 1
    table, info, page, *_ = handlers.articles("weather", 1)
    assert info == "22 of 25 articles match “weather” · page 1 of 2" and len(table["samples"]) == 20
    table, info, *_ = handlers.articles_next("weather", page)
    assert [row[1] for row in table["samples"]] == ["notes/weather-21.txt", "notes/weather-22.txt"]
    assert [row[1] for row in handlers.articles("sport/")[0]["samples"]] == ["sport/regatta.txt"]
    assert [row[1] for row in handlers.articles("tolls harbour")[0]["samples"]] == [
        "economy/harbour-tolls.txt"
    ]
    table, info, page, previous, following = handlers.articles("no such story")
    assert table["samples"] == [] and info == "0 of 25 articles match “no such story” · page 1 of 1"
    assert previous["interactive"] is False and following["interactive"] is False
    # A row of the table opens its article in the evidence panel.
    row = handlers.articles("regatta")[0]["samples"][0]
    page_html, _ = handlers.show_article(row)
    assert "<h3>Kestrel club wins the Vellmouth regatta</h3>" in page_html


def test_paging_and_keys():
    assert paginate(list(range(45)), 3, 20) == (list(range(40, 45)), 3, 3)
    assert paginate(list(range(45)), 9, 20)[1:] == (3, 3)
    assert paginate([], 0, 20) == ([], 1, 1)
    assert search_key("  José   ÅSTRÖM ") == "jose astrom"
    people = Catalogue([], [])
    assert people.find_people("x").matches == 0 and people.find_people().pages == 1
    long = Listing(
        (("Ana Lind", "a research director at an orchard bank in Tessaly", 3, 1),), 1, 1, 1, 1
    )
    [[name, role, said, articles]] = people_rows(long)
    assert role == "a research director at an…" and (name, said, articles) == ("Ana Lind", 3, 1)


def test_choosing_a_person_asks_what_they_said(newsroom: Assistant):
    handlers = Handlers(newsroom)
    row = handlers.people("coach")[0]["samples"][0]
    chat, history, box, citations, evidence, quotes = handlers.ask_person(row, [], [])
    assert chat[0] == {"role": "user", "content": "What did Odile Ferrant say?"}
    assert history == ["What did Odile Ferrant say?"] and box == ""
    assert quotes and all(q.speaker == "Odile Ferrant" for q in quotes)
    assert "They rowed the last kilometre" in chat[1]["content"]
    assert "— Odile Ferrant" in chat[1]["content"]
    assert citations["value"] == f"{quotes[0].start}:{quotes[0].end}:{quotes[0].source}"
    assert evidence.count("<mark") == 1 and "sport/regatta.txt" in evidence


def test_examples_are_the_most_quoted_people_and_the_engine_answers_them(newsroom: Assistant):
    handlers = Handlers(newsroom)
    examples = handlers.view.examples()
    # The most quoted first, one from each folder in turn, then a name the headlines share.
    assert examples[:3] == [
        "What did Ines Varga say?",
        "What did Odile Ferrant say?",
        "What did Tomas Brenner say?",
    ]
    assert examples[3] in ("What about Vellmouth?", "What about Marrowby?")
    for question in examples[:3]:
        answer = newsroom.ask(question)
        assert answer.quotes and answer.quotes[0].speaker == question[9:-5]
    assert newsroom.ask(examples[3]).quotes
    samples, box = handlers.examples()
    assert samples["samples"] == [[q] for q in examples] and samples["visible"] is True
    assert box["placeholder"] == "Ask about the articles, e.g. What did Ines Varga say?"
    # An example is a new question, never a follow-up of the one before.
    chat, history, *_ = handlers.ask_person(["Tomas Brenner"], [], [])
    chat, history, *_ = handlers.ask_example([examples[3]], chat, history)
    assert history == [examples[3]] and len(chat) == 4


def test_a_corpus_without_quotes_gets_examples_from_its_headlines(
    tmp_path, embedder, write_articles
):
    corpus = write_articles(tmp_path / "corpus", QUIET)
    assistant = Assistant(corpus, tmp_path / "index", embedder=embedder)
    assert all(p.sentences == 0 for p in assistant.people())
    assert headline_topics(assistant.documents()) == ["Orrin"]  # past the first word only
    examples = Handlers(assistant).view.examples()
    assert examples == ["What about Orrin?"]
    answer = assistant.ask(examples[0])
    assert answer.quotes and "Orrin" in answer.quotes[0].text
    # A corpus with nothing in it offers no examples and a plain hint.
    (tmp_path / "empty").mkdir()
    empty = Assistant(tmp_path / "empty", tmp_path / "empty-index", embedder=embedder)
    samples, box = Handlers(empty).examples()
    assert samples["samples"] == [] and samples["visible"] is False
    assert box["placeholder"] == "Ask about the articles"


def test_the_lists_follow_the_corpus_after_an_upload(own_newsroom: Assistant, tmp_path):
    handlers = Handlers(own_newsroom)
    catalogue = handlers.view.catalogue()
    assert handlers.view.catalogue() is catalogue  # made once per snapshot
    assert handlers.summary() == "**25** articles · **4** people named, **4** quoted"
    upload = tmp_path / "upload" / "orchard.txt"
    upload.parent.mkdir()
    upload.write_text(
        "Orchard prices fall in Tessaly\n\n"
        '"Apples have never been this cheap," grower Hana Solberg said on Friday.\n',
        encoding="utf-8",
    )
    assert "**Added** orchard.txt" in handlers.upload([str(upload)])
    assert handlers.view.catalogue() is not catalogue
    assert handlers.summary() == "**26** articles · **5** people named, **5** quoted"
    [row] = handlers.people("Solberg")[0]["samples"]
    assert (row[0], row[2], row[3]) == ("Hana Solberg", 1, 1)
    assert handlers.articles("orchard")[0]["samples"] == [
        ["Orchard prices fall in Tessaly", "uploads/orchard.txt"]  # kept apart from the corpus
    ]


@pytest.fixture
def newsroom_app(newsroom: Assistant):
    demo = build_demo(newsroom)
    demo.queue(default_concurrency_limit=4)
    port = _free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@pytest.mark.browser
def test_people_and_article_panels_in_a_browser(newsroom_app):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: run `make browser`")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(newsroom_app)
        # Examples and the hint come from this corpus.
        page.locator("#examples").get_by_text("What did Ines Varga say?").wait_for(timeout=20000)
        hint = page.locator("#question textarea").get_attribute("placeholder") or ""
        assert "What did Ines Varga say?" in hint
        # The people panel: filter by role, choose the one person left.
        people = page.locator("#people tbody tr")
        assert people.count() == 4
        page.locator("#people-filter input").fill("coach")
        page.get_by_text("1 of 4 people match “coach” · page 1 of 1").wait_for(timeout=20000)
        assert people.count() == 1 and "Odile Ferrant" in people.first.inner_text()
        people.first.click()
        chat = page.locator("#chat")
        chat.get_by_text("They rowed the last kilometre", exact=False).wait_for(timeout=20000)
        assert "What did Odile Ferrant say?" in chat.inner_text()
        assert "— Odile Ferrant" in chat.inner_text()
        assert "Odile Ferrant" in page.locator("#evidence mark").inner_text()
        page.screenshot(path=str(ARTIFACTS / "people.png"))
        # The article list: search, turn the page, choose one.
        page.get_by_role("tab", name="Articles", exact=True).click()
        articles = page.locator("#articles tbody tr")
        page.locator("#articles-filter input").fill("weather")
        info = page.locator("#articles-info")
        page.get_by_text("22 of 25 articles match “weather” · page 1 of 2").wait_for(timeout=20000)
        assert articles.count() == 20
        page.locator("#articles-next").click()
        page.get_by_text("· page 2 of 2").wait_for(timeout=20000)
        assert articles.count() == 2 and "notes/weather-22.txt" in articles.last.inner_text()
        page.locator("#articles-filter input").fill("marrowby")
        page.get_by_text("2 of 25 articles match “marrowby” · page 1 of 1").wait_for(timeout=20000)
        assert "Harbour tolls to rise in Marrowby" in page.locator("#articles").inner_text()
        articles.get_by_text("Harbour tolls to rise in Marrowby").click()
        evidence = page.locator("#evidence")
        evidence.get_by_text("the whole article", exact=False).wait_for(timeout=20000)
        assert "economy/harbour-tolls.txt" in evidence.inner_text()
        assert "Every boat in Marrowby will feel this" in evidence.inner_text()
        assert "page 1 of 1" in info.inner_text()  # a new search starts on page 1
        page.screenshot(path=str(ARTIFACTS / "articles.png"))
        browser.close()


def _harbour_briefs(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"brief-{i:03d}.txt").write_text(
            f"Quay works {i}\n\nThe quay of Nesbyen was dredged to {4 + i % 5} metres in week {i}.\n"
            f'"Ships can come in again," port engineer Runa Falk said of week {i}.\n',
            encoding="utf-8",
        )


def test_the_page_says_the_index_is_being_built_and_fills_in_when_it_is(tmp_path, embedder):
    import gradio as gr

    corpus = tmp_path / "corpus"
    _harbour_briefs(corpus, 6)
    assistant = Assistant(corpus, tmp_path / "index", build=False, embedder=embedder)
    handlers = Handlers(assistant)
    assert handlers.status().startswith("**Indexing.**")
    assert "nothing to answer from until it is done" in handlers.status()
    chat, history, box, *_ = handlers.respond("How deep was the quay dredged?", [], [])
    assert "being indexed" in chat[-1]["content"] and box == "How deep was the quay dredged?"
    with pytest.raises(gr.Error, match="being indexed"):
        handlers.ask_api("How deep was the quay dredged?")
    line, timer, shown, *rest = handlers.tick(False)
    assert line["visible"] is True and shown is False and len(rest) == 13
    assistant.sync()
    line, timer, shown, summary, *rest = handlers.tick(False, "Falk", "")
    assert line["visible"] is False and shown is True and "**6** articles" in summary
    # The refreshed lists keep what the filter boxes hold (one typed while indexing).
    people, people_info, *_ = rest[:5]
    articles_info = rest[6]
    assert "match" not in articles_info and "match “Falk”" in people_info
    assert handlers.status() == ""
    _, again, *_ = handlers.tick(True)  # a page that shows the new index: nothing to redo
    chat, *_ = handlers.respond("How deep was the quay dredged in week 2?", [], [])
    assert "Quay works" in chat[-1]["content"] or "dredged" in chat[-1]["content"]


SEEN_INDEXING = """() => {
  window.__indexing = [];
  const look = () => {
    const line = document.querySelector('#index-status');
    window.__indexing.push(!!line && line.offsetParent !== null && line.innerText.includes('Indexing'));
  };
  look();
  window.__look = setInterval(look, 25);
}"""


@pytest.mark.browser
def test_the_indexing_line_is_shown_only_while_the_corpus_is_indexed(tmp_path, embedder):
    """The page is built once, while the corpus is read; a page opened once the index is
    up to date must never show that (stale) line, not even for a moment."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: run `make browser`")
    corpus = tmp_path / "corpus"
    _harbour_briefs(corpus, 6)
    assistant = Assistant(corpus, tmp_path / "index", build=False, embedder=embedder)
    demo = build_demo(assistant)  # as `ui/app.py` does: before the index is built
    demo.queue(default_concurrency_limit=4)
    port = _free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            early = browser.new_page()
            early.goto(url)
            line = early.locator("#index-status")
            line.get_by_text("nothing to answer from until it is done").wait_for(timeout=20000)
            assistant.sync()
            line.wait_for(state="hidden", timeout=20000)  # the open page follows
            early.locator("#corpus-summary").get_by_text("6 articles").wait_for(timeout=20000)
            late = browser.new_page()
            late.add_init_script(f"document.addEventListener('DOMContentLoaded', {SEEN_INDEXING})")
            late.goto(url)
            late.locator("#corpus-summary").get_by_text("6 articles").wait_for(timeout=20000)
            late.wait_for_timeout(1500)  # past the first tick of the page's timer
            seen = late.evaluate("() => window.__indexing")
            assert len(seen) > 20, seen
            assert not any(seen), "a page opened after indexing showed the indexing line"
            browser.close()
    finally:
        demo.close()


@pytest.mark.slow
def test_the_app_serves_while_a_new_corpus_is_indexed(tmp_path):
    """`python ui/app.py` on a corpus it has never indexed: the page answers requests
    while the index is built, and says so; then it answers from the new index."""
    import subprocess
    import sys
    import time
    import urllib.request

    from gradio_client import Client

    corpus = tmp_path / "corpus"
    _harbour_briefs(corpus, 400)
    port = _free_port()
    env = {
        **os.environ,
        "RAG_CORPUS_DIR": str(corpus),
        "RAG_INDEX_DIR": str(tmp_path / "index"),
        "GRADIO_SERVER_PORT": str(port),
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(ROOT),
    }
    log = tmp_path / "app.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "ui" / "app.py")], env=env, stdout=out, stderr=out
        )
    try:
        url = f"http://127.0.0.1:{port}/"
        for _ in range(240):
            try:
                with urllib.request.urlopen(url, timeout=2) as page:
                    assert page.status == 200
                    break
            except OSError:
                assert proc.poll() is None, log.read_text()
                time.sleep(0.5)
        else:
            pytest.fail(f"the page never came up:\n{log.read_text()}")
        client = Client(url, verbose=False)
        early = "index up to date" not in log.read_text()
        try:
            result = client.predict("How deep was the quay dredged in week 7?", api_name="/ask")
            assert not early or "index up to date" in log.read_text(), "answered before the index"
        except Exception as exc:  # noqa: BLE001 - gradio_client wraps the gr.Error
            assert "being indexed" in str(exc), exc
        assert early, "the index was complete before the page came up: no serving while indexing"
        for _ in range(600):
            if "index up to date" in log.read_text():
                break
            assert proc.poll() is None, log.read_text()
            time.sleep(0.5)
        result = client.predict("How deep was the quay dredged in week 7?", api_name="/ask")
        assert result["quotes"], result
    finally:
        proc.terminate()
        proc.wait(timeout=30)
