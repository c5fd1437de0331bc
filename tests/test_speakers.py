"""Who said what: attribution at index time, and person questions answered with their words."""

from pathlib import Path

import pytest

from eval.attribution import attribution
from eval.rows import load_labels
from rag.speakers import canonical
from rag.store import load
from rag.text import split_sentences

ROOT = Path(__file__).resolve().parent.parent


def speaker_of(index, source: str, startswith: str) -> tuple[str | None, str | None]:
    record = index.record(source)
    for i, s in enumerate(record.sentences):
        if record.sentence_text(i).startswith(startswith):
            return s.speaker, s.speech
    raise AssertionError(f"no sentence starting {startswith!r} in {source}")


@pytest.fixture(scope="module")
def index(seeds_index):
    return load(seeds_index[1])


def test_attribution_against_the_hand_labels(assistant):
    att = attribution(assistant, load_labels(ROOT / "eval" / "speakers.jsonl"))["all"]
    assert att.sentences == sum(
        len(split_sentences(p.read_text(encoding="utf-8"))) for p in (ROOT / "seeds").glob("*.txt")
    )
    assert att.precision >= 0.9 and att.recall >= 0.9, att.errors


@pytest.mark.parametrize(
    "source, start, expected",
    [
        ("003_0c27a898a610b2f4.txt", "“I wouldn’t take them", ("Mark Rutte", "direct")),  # he added
        ("003_0c27a898a610b2f4.txt", "Of course, we need", ("Mark Rutte", "direct")),  # runs on
        ("000_81fe3f3830062f5a.txt", "'So, let's put Putin", ("Mark Rutte", "direct")),
        ("000_81fe3f3830062f5a.txt", "He cautioned that", ("Mark Rutte", "reported")),
        ("001_e30ad69a05aee708.txt", "According to Rutte", ("Mark Rutte", "reported")),
        ("001_e30ad69a05aee708.txt", "I have in front of me", ("Mark Rutte", "direct")),
        (
            "002_b3e776c3ce9b9c18.txt",
            "The Secretary General emphasizes",
            ("Mark Rutte", "reported"),
        ),
        (
            "000_81fe3f3830062f5a.txt",
            "German Chancellor Friedrich Merz",
            ("Friedrich Merz", "reported"),
        ),
        ("003_0c27a898a610b2f4.txt", "In response, Trump suggested", ("Donald Trump", "reported")),
        (
            "002_b3e776c3ce9b9c18.txt",
            "At the same time, Zelensky warned",
            ("Volodymyr Zelensky", "reported"),
        ),
        ("000_81fe3f3830062f5a.txt", "The earlier plan drew criticism", (None, None)),
        ("004_58775ba19e664a39.txt", "As the world watches", (None, None)),
    ],
)
def test_hard_cases(index, source, start, expected):
    assert speaker_of(index, source, start) == expected


def test_one_canonical_name_per_person():
    for form in [
        "Rutte",
        "Mark Rutte",
        "Rutten",
        "NATO chief",
        "the Secretary General",
        "Secretary General",
    ]:
        assert canonical(form.removeprefix("the ")) == "Mark Rutte"
    assert canonical("Zelenskyy") == canonical("Zelensky") == "Volodymyr Zelensky"
    assert canonical("American president") == canonical("Trump") == "Donald Trump"
    assert canonical("Merz") == "Friedrich Merz" and canonical("Rubio") == "Marco Rubio"
    assert canonical("Putin") == "Vladimir Putin" and canonical("Kellogg") is None


@pytest.mark.parametrize(
    "question, person",
    [
        ("What did Rutte say about China?", "Mark Rutte"),
        ("What did the NATO chief say about disinformation?", "Mark Rutte"),
        ("What did Zelensky say about talks without Ukraine?", "Volodymyr Zelensky"),
        ("What did Trump say about tariffs?", "Donald Trump"),
        ("What did Friedrich Merz say?", "Friedrich Merz"),
        ("According to Rutte, what role will the US play?", "Mark Rutte"),
        ("How did Rutte describe Russia's peace offers?", "Mark Rutte"),
    ],
)
def test_person_questions_put_that_persons_words_first(assistant, question, person):
    answer = assistant.ask(question)
    assert answer.quotes and answer.quotes[0].speaker == person
    assert answer.speaker_found is True
    assert f"— {person}, in" in answer.markdown


def test_a_person_not_quoted_on_a_topic_is_said_so_before_the_closest_quotes(assistant):
    answer = assistant.ask("What did Merz say about China?")
    assert answer.speaker_found is False
    assert answer.note.startswith("Friedrich Merz is not quoted on this")
    assert answer.markdown.startswith("*Friedrich Merz is not quoted on this")
    assert answer.quotes and not any(
        "China" in q.text and q.speaker == "Friedrich Merz" for q in answer.quotes
    )
