from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag import Answer, Assistant, Citation, Quote, Settings
from rag.answer import NO_ANSWER, after_the_first, to_text
from rag.query import (
    AGE,
    COUNT,
    DURATION,
    MONEY,
    NUMBER,
    TIME,
    AnswerType,
    according_after,
    answer_type,
    has_answer_type,
    names_in,
    resolve,
    split_frame,
)

QUESTIONS = [
    "What did Rutte say about China?",
    "What did Rutte say about Iran?",
    "Where is Trump planning to meet Putin?",
    "What is the 28‑point plan?",
    "How do the guarantees make sure Ukraine is not 𝒄𝒂𝓊𝓰𝒉𝓉 off guard?",
    "Who said “It’s not helpful — but it’s predictable”?",
    "Kiev Zelenskyy Butscha defence",
    "ROUTE? ???",
    "'; DROP TABLE articles; --",
    "<script>alert(1)</script>",
    "Что сказал Рютте о Китае?",
    "😀🚀",
]


def assert_verbatim(answer: Answer, corpus: Path) -> None:
    for q in answer.quotes:
        text = Path(corpus, q.source).read_text(encoding="utf-8")
        assert text[q.start : q.end] == q.text
        for c in q.also:
            assert 0 <= c.start < c.end <= len(Path(corpus, c.source).read_text(encoding="utf-8"))


def test_china_answers_with_the_crucial_lifeline_sentence_first(assistant: Assistant):
    answer = assistant.ask("What did Rutte say about China?")
    first = answer.quotes[0]
    assert first.source == "000_81fe3f3830062f5a.txt"
    assert "crucial lifeline" in first.text
    assert first.title == "CRBC News"
    # The article's summary says the same thing: one quote, both places.
    assert [(c.source, c.start) for c in first.also] == [("000_81fe3f3830062f5a.txt", 635)]
    assert (
        "crucial lifeline" in answer.markdown and "000\\_81fe3f3830062f5a\\.txt" in answer.markdown
    )
    assert not answer.abstained


@pytest.mark.parametrize(
    "question", ["Who won the 2022 FIFA World Cup?", "What did Rutte say about climate change?"]
)
def test_abstains_when_the_corpus_has_no_support(assistant: Assistant, question: str):
    answer = assistant.ask(question)
    assert answer.abstained and answer.quotes == ()
    assert "no supporting quote" in answer.markdown.lower()


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_quote_is_verbatim_at_its_offsets(assistant: Assistant, question: str):
    answer = assistant.ask(question)
    assert_verbatim(answer, assistant.corpus_dir)
    assert len(answer.quotes) <= assistant.settings.max_quotes
    scores = [q.score for q in answer.quotes]
    assert scores == sorted(scores, reverse=True)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=300))
def test_any_unicode_question_raises_value_error_or_quotes_verbatim(
    assistant: Assistant, question: str
):
    try:
        answer = assistant.ask(question)
    except ValueError:
        assert not question.strip() or len(question) > assistant.settings.max_question_chars
        return
    assert_verbatim(answer, assistant.corpus_dir)


@pytest.mark.parametrize("question", ["", "   \n\t", "x" * 2001])
def test_bad_questions_raise_value_error_with_a_reason(assistant: Assistant, question: str):
    with pytest.raises(ValueError, match="empty|limit"):
        assistant.ask(question)


def test_k_limits_quotes_and_is_checked(assistant: Assistant):
    assert len(assistant.ask("What did Rutte say about Putin?", k=1).quotes) == 1
    with pytest.raises(ValueError, match="k must be"):
        assistant.ask("Putin", k=0)


def test_quotes_are_one_to_three_sentences_and_near_duplicates_fold(assistant: Assistant):
    from rag.text import split_sentences

    for question in QUESTIONS[:6]:
        for q in assistant.ask(question).quotes:
            text = Path(assistant.corpus_dir, q.source).read_text(encoding="utf-8")
            inside = [s for s in split_sentences(text) if q.start <= s.start and s.end <= q.end]
            assert 1 <= len(inside) <= 3


def test_a_sentence_standing_in_two_places_is_one_quote_citing_both(
    tmp_path, embedder, write_articles
):
    repeated = "The council will close the Brennock bridge for repairs from 3 May to 21 June."
    corpus = write_articles(
        tmp_path / "corpus",
        {
            "a.txt": f"Bridge works in Brennock\n\n{repeated}\n"
            "Drivers are asked to use the ring road.\n"
            f"Shops near the bridge fear a quiet summer.\n\n{repeated}\n",
            "b.txt": "Brennock news in brief\n\n"
            f"The town fair moves to the school field.\n{repeated}\n",
        },
    )
    assistant = Assistant(corpus, tmp_path / "index", embedder=embedder)
    answer = assistant.ask("When will the Brennock bridge close for repairs?")
    texts = [q.text for q in answer.quotes]
    assert len(texts) == len(set(texts))
    quote = next(q for q in answer.quotes if q.text == repeated)
    places = {(quote.source, quote.start)} | {(c.source, c.start) for c in quote.also}
    expected = {
        (name, i)
        for name in ("a.txt", "b.txt")
        for text in [(corpus / name).read_text(encoding="utf-8")]
        for i in range(len(text))
        if text.startswith(repeated, i)
    }
    assert len(expected) == 3 and places == expected
    for c in (quote.citation, *quote.also):
        assert (corpus / c.source).read_text(encoding="utf-8")[c.start : c.end] == repeated


def test_concurrent_asks_give_the_same_answers(assistant: Assistant):
    expected = {q: assistant.ask(q) for q in QUESTIONS}
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(assistant.ask, QUESTIONS * 4))
    for answer in got:
        assert answer == expected[answer.question]


def test_follow_up_borrows_person_and_frame(assistant: Assistant):
    assert (
        resolve("And about Iran?", ["What did Rutte say about China?"])
        == "What did Rutte say about Iran?"
    )
    assert resolve("What did he say about Iran?", ["What did Rutte say about China?"]) == (
        "What did Rutte say about Iran?"
    )
    assert resolve("Where is Alaska?", ["What did Rutte say about China?"]) == "Where is Alaska?"
    answer = assistant.ask("And about Iran?", history=["What did Rutte say about China?"])
    assert answer.resolved_question == "What did Rutte say about Iran?"
    assert any("Iran" in q.text for q in answer.quotes)


def test_split_frame_finds_person_and_topic():
    assert split_frame("What did Rutte say about China?") == ("Rutte", "China")
    assert split_frame("What did the NATO chief say about Iran?") == ("NATO chief", "Iran")
    assert split_frame("Where is Alaska?") == (None, "Where is Alaska?")
    # A topic starting with a verb's letters is no verb: "playing" is not "play" + "ing".
    assert split_frame("What did Ivo Rask say about playing Tor Lund?") == (
        "Ivo Rask",
        "playing Tor Lund",
    )
    assert split_frame("How did Ms Ana Lind describe the plan?") == ("Ms Ana Lind", "the plan")
    # "play" speaks only as "play down": a fixture asks no one's words.
    assert split_frame("When do Lund play Varna at home?") == (
        None,
        "When do Lund play Varna at home?",
    )
    assert split_frame("What did Hale point out about the plan?") == ("Hale", "the plan")
    assert split_frame("What did Hale really say about tariffs?") == ("Hale", "tariffs")
    assert split_frame("What has Ines Varga warned about tolls?") == ("Ines Varga", "tolls")
    assert split_frame("What did Hale say today?") == ("Hale", "today")  # not "to" + "day"
    # What the person is, in lower case before the name, describes them.
    assert split_frame("What did songwriter Ana Lind say about the fees?") == (
        "Ana Lind",
        "the fees",
    )
    assert split_frame("What did officials in Lund say?")[0] is None  # a phrase, not a name
    # A nationality describes them; "sum up" is a speech verb like "point out".
    assert split_frame("What did the Swede Rask say about the final?") == ("Rask", "the final")
    assert split_frame("How did Ivo Rask sum up the season?") == ("Ivo Rask", "the season")
    # Where they are from, however long, is no part of the name.
    assert split_frame("What did Ana Lind of the Varna Harbour Pilots Guild predict?") == (
        "Ana Lind",
        "What did Ana Lind of the Varna Harbour Pilots Guild predict?",
    )
    assert split_frame("What did Ana Lind of Orchard Bank say of the plan?") == (
        "Ana Lind",
        "the plan",
    )
    # A long description before the name; the question's own noun kept with its topic.
    assert split_frame("What did Orchard Savings Bank chief economist Ana Lind say?")[0] == (
        "Orchard Savings Bank chief economist Ana Lind"
    )
    assert split_frame("Which ferries did Hale say would stop?") == ("Hale", "ferries would stop")
    assert split_frame("What kind of deal did Hale predict?") == ("Hale", "deal")
    assert split_frame("How much did Hale say the bridge cost?") == ("Hale", "the bridge cost")
    # A long run of words before the verb must end in a capital to be a name.
    assert split_frame("What did the Lund jobless rate fall to?")[0] is None
    assert split_frame("Where will the new Orchard Motors engines be made?")[0] is None
    # ... and lower-case words after the name's first capital only in a description that
    # ends in a role ("Orchard Bank chief economist Ana Lind"); here "States" is the verb.
    assert split_frame("What role does Hale see for the Varna States in the talks?")[0] is None
    assert split_frame("What did Orchard Bank chief economist Ana Lind say?")[0] == (
        "Orchard Bank chief economist Ana Lind"
    )
    # Words after "What" that ask for no noun stay out of the topic.
    assert split_frame("What exactly did Ivo Lund say about the tolls?") == (
        "Ivo Lund",
        "the tolls",
    )
    # Firms, teams and rates make, see, hit, call up and fall: no one's words are asked for.
    for question in (
        "How much did Lund Shipping make last year?",
        "What kind of car did Varna Motors make?",
        "Which players did Varna Hawks call up?",
        "How often did Lund Hawks hit the post?",
        "How soon will Orchard Bank see a profit?",
        "What did the Orchard Bank rate fall to?",
        "How did Varna Hawks defend their title?",
        "What did Lund Shipping make last year?",  # "make" asks for words only as "make of"
    ):
        assert split_frame(question)[0] is None, question
    assert split_frame("What did Ana Lind make of the plan?") == ("Ana Lind", "the plan")
    # "What else did Hale say?" asks what "What did Hale say?" asks.
    assert split_frame("What else did Ines Varga say?") == (
        "Ines Varga",
        "What did Ines Varga say?",
    )
    # A description before a full name may end in any word ("envoy" is in no list).
    assert split_frame("What did UN envoy Ana Lind say about tolls?")[0] == "UN envoy Ana Lind"


def test_according_to_at_the_end_names_the_person_by_the_words_that_close_it():
    assert according_after("Why did tolls rise, according to its chief economist Ana Lind?") == (
        "Ana Lind",
        "Why did tolls rise",
    )
    assert according_after("Why did tolls rise, according to Ana Lind of Orchard Bank?") == (
        "Ana Lind",
        "Why did tolls rise",
    )
    assert according_after("How many ships sailed, according to the finance minister?") == (
        "finance minister",
        "How many ships sailed",
    )
    assert according_after("Who won, according to Orchard Bank's Ana Lind?") == (
        "Orchard Bank's Ana Lind",
        "Who won",
    )
    assert according_after("Why, according to “Øystein Lind”?") == ("Øystein Lind", "Why")
    assert according_after("Who won, according to Ana Lind and Ivo Rask?") is None  # two people
    assert according_after("Who won, according to Ana Lind of Orchard Bank and Ivo Rask?") is None
    # The role of a body is no one the question names: the articles name whoever holds it.
    assert according_after("Why did tolls rise, according to the head of Orchard Bank?") is None
    # A follow-up ending so names its own person: a new question.
    assert (
        resolve("And the tolls, according to Ana Lind?", ["What did Ivo Rask say about the final?"])
        == "The tolls, according to Ana Lind?"
    )


def test_their_closest_words_go_after_the_first_quote_and_a_fuller_one_takes_its_place():
    def quote(source: str, start: int, end: int) -> Quote:
        return Quote("x" * (end - start), source, "T", start, end, 1.0)

    topical = [quote("a.txt", 0, 10), quote("b.txt", 0, 10), quote("c.txt", 0, 10)]
    theirs = [quote("d.txt", 5, 20), quote("b.txt", 5, 15)]  # the second meets b.txt's
    # Theirs come before the rest: the later quote that meets one of theirs is left out.
    assert after_the_first(topical, theirs, 5) == [topical[0], *theirs, topical[2]]
    assert after_the_first(topical, theirs, 2) == [topical[0], theirs[0]]
    fuller = quote("a.txt", 0, 30)  # holds the first quote and more of the same words
    assert after_the_first(topical, [fuller], 5) == [fuller, *topical[1:]]
    assert after_the_first([], theirs, 5) == theirs
    assert according_after("Who won the race in Lund?") is None


@pytest.mark.parametrize(
    ("question", "wanted"),
    [
        ("When did Varna annex the harbour islands?", AnswerType(TIME)),
        ("Which year of the war is it?", AnswerType(TIME)),
        ("On what date did the summit end?", AnswerType(TIME)),
        ("How long was the ceasefire?", AnswerType(DURATION)),
        ("How old is Ines Varga?", AnswerType(AGE)),
        ("How many troops were sent?", AnswerType(COUNT, "troops")),
        ("How many have died?", AnswerType(NUMBER)),
        ("How much money did the Harbour League pledge in euros?", AnswerType(MONEY)),
        ("How much does Koravik earn from ferries?", AnswerType(MONEY)),
        ("What did Hale say about exports?", None),
        ("Where is Ana Lind planning to meet Ivo Rask?", None),
    ],
)
def test_answer_type_of_a_question(question: str, wanted: AnswerType | None):
    assert answer_type(question) == wanted


@pytest.mark.parametrize(
    ("text", "wanted", "holds"),
    [
        ("a 30-day ceasefire", AnswerType(DURATION), True),
        ("over the past six months", AnswerType(COUNT, "months"), True),
        ("based on a 12‑point plan", AnswerType(COUNT, "points"), True),
        ("Varnese troops must remain the first line", AnswerType(COUNT, "troops"), False),
        ("the dispute now enters its third year", AnswerType(TIME), True),
        ("a meeting in Koravik last December", AnswerType(TIME), True),
        ("a meeting in Koravik last December", AnswerType(DURATION), False),
        ("Varga pushes for harbour elections in 2031", AnswerType(AGE), False),
        ("tolls of 10–20% on buyers of Varnese timber", AnswerType(MONEY), False),
        ("a pledge of €12 billion", AnswerType(MONEY), True),
        ("the club paid £3.5m for the striker", AnswerType(MONEY), True),
        ("a loan of 500m euros", AnswerType(MONEY), True),
        ("profits rose to 4bn last year", AnswerType(MONEY), True),
        ("a 1.8m (5.9ft) fence went up", AnswerType(MONEY), False),  # metres, not millions
        ("she won the 400m final", AnswerType(MONEY), False),
        ("Hale has doubts about the talks.", AnswerType(TIME), False),
    ],
)
def test_answer_type_of_a_sentence(text: str, wanted: AnswerType, holds: bool):
    assert has_answer_type(text, wanted) is holds


def test_a_when_question_puts_the_dated_sentence_first(assistant: Assistant):
    # Without the answer-type check, four undated sentences about Rutte came first.
    answer = assistant.ask("When was Rutte interviewed on Dutch television?")
    assert "Sunday 9 February" in answer.quotes[0].text


def test_a_word_family_is_matched_across_stems(assistant: Assistant):
    # "recognising" (stem recognis) meets "recognitions" and "recognized" only as related terms.
    answer = assistant.ask(
        "What distinction does Rutte draw about recognising Russian control of territory?"
    )
    assert any("de jure" in q.text for q in answer.quotes[:3])


def test_a_name_in_the_question_does_not_pull_in_every_sentence_about_that_person(
    assistant: Assistant,
):
    # Embedding "On which talk show was interviewed?" keeps short sentences that only
    # name Rutte ("Rutte has mixed feelings about this encounter.") below the answer.
    answer = assistant.ask("On which talk show was Rutte interviewed?")
    assert any("Buitenhof" in q.text for q in answer.quotes[:3])


HEADLINED = """Ferry fares in Koravik to double next spring

The ferry company of Koravik will double its fares from next April, its board decided on Monday.
A single crossing to the island will then cost 14 crowns instead of seven.
Harbour master Elin Sauda said the rise was needed to pay for two new boats.
"""


def test_a_headline_is_quoted_only_when_the_body_holds_nothing_better(
    tmp_path, embedder, write_articles
):
    corpus = write_articles(
        tmp_path / "corpus",
        {
            "ferry.txt": HEADLINED,
            "other.txt": "Koravik opens a library\n\nThe new library of Koravik opened on "
            "Friday with 9,000 books.\nIts reading room looks out over the harbour.\n",
        },
    )
    assistant = Assistant(corpus, tmp_path / "index", embedder=embedder)
    # The headline says it as well as the body does; the body is quoted, the headline not.
    answer = assistant.ask("Will ferry fares in Koravik double?")
    assert answer.quotes, answer.markdown
    assert answer.quotes[0].text.startswith("The ferry company of Koravik will double")
    assert all(not q.text.startswith("Ferry fares in Koravik") for q in answer.quotes)
    # A corpus whose only words on it are a headline still answers with the headline.
    (corpus / "ferry.txt").write_text(
        "Ferry fares in Koravik to double next spring\n\nThe island has 800 people.\n",
        encoding="utf-8",
    )
    assistant.sync()
    answer = assistant.ask("Will ferry fares in Koravik double?")
    assert answer.quotes and answer.quotes[0].text == "Ferry fares in Koravik to double next spring"


def test_the_plain_text_answer_cites_like_the_markdown_without_its_escapes(assistant: Assistant):
    answer = assistant.ask("What did Rutte say about China?")
    first = answer.quotes[0]
    assert "\\" not in answer.text and "\\" in answer.markdown
    assert answer.text.startswith("[1] ")
    assert first.text.split("\n")[0] in answer.text  # verbatim, not escaped
    for c in [first.citation, *first.also]:
        assert f"{c.source}, characters {c.start}–{c.end}" in answer.text
    assert f"— {first.speaker}, in {first.title}" in answer.text
    assert assistant.ask("Who won the 2022 FIFA World Cup?").text == NO_ANSWER


def test_plain_text_shows_notes_speakers_every_place_and_no_terminal_controls():
    quote = Quote(
        text="The bridge at Orlen will reopen in June.\nTolls stay as they are.",
        source="notes/orlen_bridge.txt",
        title="A bridge for Orlen",
        start=20,
        end=84,
        score=0.9,
        also=(Citation("digest.md", "Week in Orlen", 5, 69),),
        speaker="Petra Sollen",
        speech="reported",
    )
    plain = Quote("Rain \x1b[31mcleared\x1b[0m by noon.", "weather.txt", "Weather", 0, 30, 0.5)
    text = to_text([quote, plain], note="Sollen is not quoted on this; the closest quotes follow.")
    assert text == (
        "Sollen is not quoted on this; the closest quotes follow.\n\n"
        "[1] The bridge at Orlen will reopen in June.\n"
        "    Tolls stay as they are.\n"
        "    — Petra Sollen, in A bridge for Orlen (notes/orlen_bridge.txt, characters 20–84);\n"
        "      Week in Orlen (digest.md, characters 5–69)\n\n"
        "[2] Rain \ufffd[31mcleared\ufffd[0m by noon.\n"
        "    — Weather (weather.txt, characters 0–30)"
    )
    assert to_text([], note="No one called Oster is named.") == (
        f"No one called Oster is named.\n\n{NO_ANSWER}"
    )


def _town_news(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"brief-{i:03d}.txt").write_text(
            f"Harbour notes {i}\n\nThe harbour of Tarnby logged {100 + i} boats in week {i}.\n"
            f'"It was a busy week," harbour master Oda Lindqvist said of week {i}.\n',
            encoding="utf-8",
        )


def test_an_index_being_built_is_served_from_the_last_complete_one(tmp_path, embedder):
    from rag import IndexNotReady, Progress

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    _town_news(corpus, 12)
    # No index yet: it opens at once, and a question says the index is being built.
    first = Assistant(corpus, index, build=False, embedder=embedder)
    assert not first.ready and first.documents() == []
    with pytest.raises(IndexNotReady, match="being indexed"):
        first.ask("How many boats did the harbour log?")
    heard: list[Progress] = []
    second = Assistant(corpus, index, build=False, embedder=embedder, listener=heard.append)
    second.sync()
    stages = {p.stage for p in heard}
    assert stages == {"analysing articles", "embedding sentences"}
    for stage in stages:
        counts = [p for p in heard if p.stage == stage]
        assert [p.done for p in counts] == sorted(p.done for p in counts)  # it only goes on
        assert counts[-1].done == counts[-1].total > 0
    assert next(p for p in heard if p.stage == "analysing articles").total == 12
    assert second.ready and second.building() == ""
    assert second.ask("How many boats did the harbour log in week 3?").quotes
    # With an index, a new article is not there until the sync ends; answers come meanwhile.
    (corpus / "late.txt").write_text(
        "Ferry strike in Tarnby\n\nFerry crews in Tarnby will strike on Friday over pay.\n",
        encoding="utf-8",
    )
    third = Assistant(corpus, index, build=False, embedder=embedder)
    assert not third.ready and len(third.documents()) == 12
    assert "being indexed" in third.building()
    assert third.ask("How many boats did the harbour log in week 3?").quotes
    assert "late.txt" not in {d.source for d in third.documents()}
    third.sync()
    assert third.ask("When will the ferry crews strike?").quotes[0].source == "late.txt"


def test_progress_says_how_much_is_left():
    from rag import Progress

    p = Progress("analysing articles", 300, 1200, 30.0)
    assert p.left_s == pytest.approx(90.0)
    assert p.describe() == "analysing articles: 300 of 1,200, about 2 min left"
    assert Progress("embedding sentences", 0, 50, 0.0).describe() == "embedding sentences: 0 of 50"
    assert Progress("embedding sentences", 40, 50, 8.0).describe().endswith("about 2 s left")


def test_a_sentence_from_an_article_that_never_names_the_topic_does_not_answer_it(
    tmp_path, embedder, write_articles
):
    """Another firm's loss does not say how big Kestrel Air's was: an article that never
    names what the question names is weak evidence, and the engine refuses."""
    corpus = write_articles(
        tmp_path / "corpus",
        {
            "bank.txt": "Orchard Bank slips into the red\n\nOrchard Bank made a loss of 40m "
            "euros in 2024, its first in a decade.\nThe bank blamed bad loans in its home "
            "market.\n",
            "airline.txt": "Kestrel Air adds routes\n\nKestrel Air will fly to new cities "
            "next summer.\nThe airline has ordered more planes.\n",
        },
    )
    assistant = Assistant(corpus, tmp_path / "index", embedder=embedder)
    answer = assistant.ask("How big a loss did Orchard Bank make in 2024?")
    assert answer.quotes and "40m euros" in answer.quotes[0].text
    refused = assistant.ask("How big a loss did Kestrel Air make in 2024?")
    assert not refused.quotes, refused.markdown
    # The evidence itself drops: the same question with the names check off scores higher.
    off = Settings(confidence=replace(Settings().confidence, names=0.0))
    plain = Assistant(corpus, tmp_path / "index", settings=off, embedder=embedder)
    assert plain.ask("How big a loss did Kestrel Air make in 2024?").confidence > (
        refused.confidence
    )
    # A name no article uses tells no article from another: it costs nothing.
    unknown = "How big a loss did Vestmark make in 2024?"
    assert plain.ask(unknown).confidence == assistant.ask(unknown).confidence


@pytest.mark.parametrize(
    "question, names",
    [
        ("How big a loss did Orchard Bank make in 2024?", {"orchard", "bank"}),
        ("How many copies of Being Digital sold in May?", {"digit"}),
        ("Did the American leader praise Hale?", {"hale"}),  # nationalities are no names
        ("Lund Rovers: what did their coach say?", {"rover"}),  # the first word never is
        ("When did I say so?", set()),
    ],
)
def test_names_of_a_question(question: str, names: set[str]):
    assert names_in(question) == names
