"""The eval sets are sound, and the assistant does not fall below the measured floors.

Each corpus of eval/corpora.py has its floors here, per test split: the seed articles,
and the BBC News stories read from ../shared. A corpus whose articles or eval files
are absent is skipped, saying so.
"""

import json
from dataclasses import replace

import pytest

from eval.attribution import attribution
from eval.calibration import Thresholds, apply_threshold, calibrate
from eval.corpora import CORPORA, ROOT, Corpus, corpus
from eval.harness import evaluate
from eval.report import write
from eval.rows import load_labels, load_rows
from eval.scoring import RowResult, figures, run
from rag import Assistant, normalize
from rag.types import SPEECHES

KINDS = {
    "lookup",
    "what-did-x-say",
    "paraphrase",
    "variant",
    "unicode",
    "multi-source",
    "conflict",
    "unanswerable",
}

# Test-split floors, set from what was measured (see eval/report.md) less a small margin.
# Raise them as the engine improves; never lower one without saying why in the commit.
FLOORS = {
    "seeds": {
        "first_quote_speaker": 0.9,
        "hit3": 0.8,
        "mrr": 0.74,
        # 0.83 until the names evidence refused one paraphrase (see CEILINGS below).
        "source_recall3": 0.8,
        "abstain_recall": 0.63,
        "verbatim": 1.0,
    },
    "bbc": {
        "first_quote_speaker": 0.87,
        "hit3": 0.83,
        "mrr": 0.76,
        "source_recall3": 0.92,
        # 0.6 until the test split grew by 35 rows of fresh stories, whose near misses
        # are harder (2 of 9 refused); see the commit that lowered it. 0.606 measured
        # with the names evidence; 0.576 since "Eventually Asimo" is no person (a near
        # miss about the robot had been refused by the gate for that person's words);
        # 0.545 since '"...," said <band>'s <name>' is the named person's (the labelled
        # sentences of that story went 8 -> 13 of 13 right), which gives the person of
        # one near miss more of their own words, and the speaker gate lets it pass.
        "abstain_recall": 0.54,
        "verbatim": 1.0,
    },
}
# Raised from 0.12 / 0.04 with the names evidence (Confidence.names), chosen on dev: it
# refuses 4 more BBC test near misses (0.485 -> 0.606) for 3 answerable rows whose answer
# was not among the first three quotes anyway, and one seeds paraphrase that names what
# its article never does ("the Kremlin"); the BBC ceiling is the goal, 0.05. (It
# was 0.06 from 8c1e218, whose fuller reading of questions let the gates refuse three
# test rows wrongly, 0.031 -> 0.053, to 275701f, after which a name the articles use for
# no person is no longer refused as missing: 0.046.)
CEILINGS = {"seeds": {"false_abstain": 0.14}, "bbc": {"false_abstain": 0.05}}
# Speaker attribution on the labelled sentences of each test split (the seeds' labels
# carry no split: all of them count).
SPEAKER_FLOORS = {"seeds": (0.93, 0.83), "bbc": (0.95, 0.90)}  # (precision, recall)
NAMES = [c.name for c in CORPORA]


@pytest.fixture(scope="session")
def assistants(request, embedder):
    """An Assistant per corpus, opened once: the seeds' a throwaway copy, the others in
    their index folder of eval/corpora.py, built once and kept between runs."""
    opened: dict[str, Assistant] = {}

    def get(name: str) -> Assistant:
        if name not in opened:
            c = present(name)
            if name == "seeds":
                opened[name] = request.getfixturevalue("assistant")
            else:
                opened[name] = Assistant(ROOT / c.corpus_dir, ROOT / c.index_dir, embedder=embedder)
        return opened[name]

    return get


def present(name: str) -> Corpus:
    c = corpus(name)
    why = c.missing()
    if why is not None:
        pytest.skip(f"{name}: {why}")
    return c


def test_every_corpus_has_floors():
    assert set(FLOORS) == set(CEILINGS) == set(SPEAKER_FLOORS) == {c.name for c in CORPORA}


@pytest.mark.parametrize("name", [c.name for c in CORPORA])
def test_eval_set_is_valid(name):
    c = present(name)
    lines = [
        json.loads(line)
        for line in (ROOT / c.qa).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    ids = [r["id"] for r in lines]
    assert len(ids) == len(set(ids))
    assert {r["kind"] for r in lines} <= KINDS
    assert {r["split"] for r in lines} <= {"dev", "test"}
    if name == "seeds":
        assert len(lines) >= 60 and {r["kind"] for r in lines} == KINDS
        assert sum(r["kind"] == "unanswerable" for r in lines) >= 10
        splits = [r["split"] for r in lines]
        assert 0.4 <= splits.count("dev") / len(splits) <= 0.6  # about half each
    if name == "bbc":
        rows = load_rows(ROOT / c.qa)
        assert len(rows) >= 80
        kinds = [r.kind for r in rows]
        assert kinds.count("what-did-x-say") >= 40 and kinds.count("lookup") >= 20
        assert kinds.count("unanswerable") >= 20
        assert len({r.speaker for r in rows if r.kind == "what-did-x-say"}) >= 30
        # Split by story: no story gives rows to both splits.
        split_of: dict[str, set[str]] = {}
        for row in rows:
            for g in row.golds[:1]:
                split_of.setdefault(g.source, set()).add(row.split)
        assert all(len(splits) == 1 for splits in split_of.values())
        labels = load_labels(ROOT / c.speakers)
        assert len(labels) >= 400 and len({lab.source for lab in labels}) >= 40
    for r in lines:
        if r["kind"] == "unanswerable":
            assert r["answers"] == [] and r["source"] is None
            continue
        for g in [r, *r.get("also", [])]:
            text = (ROOT / c.corpus_dir / g["source"]).read_text(encoding="utf-8")
            assert 0 <= g["start"] < g["end"] <= len(text), r["id"]
            gold = normalize(text[g["start"] : g["end"]])
            assert g["answers"], r["id"]
            for answer in g["answers"]:
                assert normalize(answer) in gold, (r["id"], answer)


@pytest.mark.parametrize("name", [c.name for c in CORPORA])
def test_speaker_labels_are_spans_of_their_articles(name):
    c = present(name)
    if not (ROOT / c.speakers).is_file():
        pytest.skip(f"{name}: no speaker labels")
    for lab in load_labels(ROOT / c.speakers):
        text = (ROOT / c.corpus_dir / lab.source).read_text(encoding="utf-8")
        assert text[lab.start : lab.end] == lab.text, (lab.source, lab.start)
        assert lab.speech in (None, *SPEECHES) and (lab.speaker is None) == (lab.speech is None)
        assert lab.split in (None, "dev", "test")


@pytest.mark.parametrize("name", [c.name for c in CORPORA])
def test_questions_were_not_copied_from_answers(name):
    for row in load_rows(ROOT / present(name).qa):
        for answer in row.answers:
            assert normalize(answer) != normalize(row.question)


@pytest.mark.parametrize("name", NAMES)
def test_test_split_stays_above_the_floors(name, assistants):
    c = present(name)
    assistant = assistants(name)
    rows = [r for r in load_rows(ROOT / c.qa) if r.split == "test"]
    f = figures(run(assistant, rows))
    for field, floor in FLOORS[name].items():
        assert getattr(f, field) >= floor, (
            f"{name}: {field} fell to {getattr(f, field)} (floor {floor})"
        )
    for field, ceiling in CEILINGS[name].items():
        value = getattr(f, field)
        assert value <= ceiling, f"{name}: {field} rose to {value} (ceiling {ceiling})"


@pytest.mark.parametrize("name", NAMES)
def test_speaker_attribution_stays_above_the_floors(name, assistants):
    c = present(name)
    if not (ROOT / c.speakers).is_file():
        pytest.skip(f"{name}: no speaker labels")
    by_split = attribution(assistants(name), load_labels(ROOT / c.speakers))
    att = by_split.get("test", by_split["all"])
    precision, recall = SPEAKER_FLOORS[name]
    assert att.precision >= precision and att.recall >= recall, (att.precision, att.recall)
    if "test" in by_split:  # its disagreements are counted, never shown
        test_spans = {
            f"{lab.source}:{lab.start}:"
            for lab in load_labels(ROOT / c.speakers)
            if lab.split == "test"
        }
        assert by_split["test"].errors == () and by_split["test"].hidden > 0
        assert by_split["all"].hidden == by_split["test"].hidden
        assert not any(e.split(" ")[0] in test_spans for e in by_split["all"].errors)


def test_speaker_labels_follow_the_text_not_the_exact_span(assistant):
    labels = load_labels(ROOT / "eval" / "speakers.jsonl")
    exact = attribution(assistant, labels)["all"]
    # Spans cut differently (a splitter that ends sentences earlier) score the same...
    shifted = attribution(assistant, [replace(lab, end=lab.end - 3) for lab in labels])["all"]
    assert shifted == exact
    # ... and a label starting inside no sentence counts as unattributed, not as absent.
    first = labels[0]
    lost = attribution(assistant, [replace(first, start=-1, end=0)])["all"]
    assert lost.sentences == 1 and lost.recall == 0.0


def test_a_second_corpus_is_scored_apart_and_calibrated_with_the_first(tmp_path, assistant):
    """Two corpora in one run: a report each; ablation thresholds from both dev splits."""
    articles = tmp_path / "articles"
    (articles / "news").mkdir(parents=True)
    (articles / "news" / "001.txt").write_text(
        "Rain in Oslo\n\nOslo had its wettest June since 1900, the city said.\n"
        '"It rained on 25 days," said Kari Nordmann, a forecaster.\n',
        encoding="utf-8",
    )
    (articles / "news" / "002.txt").write_bytes(b"Caf\xe9 closes\n\nNot UTF-8.\n")
    text = (articles / "news" / "001.txt").read_text(encoding="utf-8")
    answer = "wettest June since 1900"
    rows = [
        {
            "id": "t-1",
            "question": "Which June was the wettest in Oslo?",
            "answers": [answer],
            "source": "news/001.txt",
            "start": text.index("Oslo had"),
            "end": text.index(" the city"),
            "kind": "lookup",
            "split": "dev",
        },
        {
            "id": "t-2",
            "question": "On how many days did it rain in Oslo?",
            "answers": ["25 days"],
            "source": "news/001.txt",
            "start": text.index('"It'),
            "end": len(text) - 1,
            "kind": "lookup",
            "split": "test",
        },
        {
            "id": "t-3",
            "question": "Who won the chess final?",
            "answers": [],
            "source": None,
            "start": None,
            "end": None,
            "kind": "unanswerable",
            "split": "dev",
        },
    ]
    (tmp_path / "qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    quote = text[text.index('"It') : len(text) - 1]
    label = {
        "source": "news/001.txt",
        "start": text.index('"It'),
        "end": len(text) - 1,
        "text": quote,
        "speaker": "Kari Nordmann",
        "speech": "direct",
        "split": "test",
    }
    (tmp_path / "speakers.jsonl").write_text(json.dumps(label) + "\n")
    tiny = Corpus(
        "tiny", articles, tmp_path / "index", tmp_path / "qa.jsonl", tmp_path / "speakers.jsonl"
    )
    seeds = replace(corpus("seeds"), corpus_dir=assistant.corpus_dir, index_dir=assistant.index_dir)
    said: list[str] = []
    evaluation = evaluate(
        [seeds, tiny],
        {"absent": "no corpus folder at nowhere"},
        ablations={"lexical": {"retrieval": "lexical"}},
        say=said.append,
        embedder=assistant.embedder,
    )
    assert list(evaluation.reports) == ["seeds", "tiny"]
    assert evaluation.calibrated_on == ("seeds", "tiny")
    assert any("tiny: skipped news/002.txt" in line for line in said)
    small = evaluation.reports["tiny"]
    assert small.skipped_files and small.skipped_files[0][0] == "news/002.txt"
    assert set(small.by_split) == {"dev", "test"} and small.by_split["test"].rows == 1
    assert set(small.attribution) == {"all", "test"}
    # One threshold for the configuration, found on both corpora's dev rows together.
    both = {r.ablations["lexical"].threshold for r in evaluation.reports.values()}
    assert len(both) == 1
    written = write(evaluation, [seeds, tiny], tmp_path / "out")
    md = (tmp_path / "out" / "report.md").read_text()
    assert "## seeds" in md and "## tiny" in md and "Not scored: **absent**" in md
    assert (
        "`news/002.txt`" in md and "calibrated on the dev splits of seeds and tiny together" in md
    )
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    assert set(data["reports"]) == {"seeds", "tiny"}
    assert written.tables["tiny"].count("\n") == 4  # head, rule, dev, test, all


@pytest.mark.slow
def test_report_is_written_with_ablations(assistant, tmp_path):
    seeds = replace(corpus("seeds"), corpus_dir=assistant.corpus_dir, index_dir=assistant.index_dir)
    evaluation = evaluate([seeds], say=lambda line: None, embedder=assistant.embedder)
    write(evaluation, [seeds], tmp_path)
    md = (tmp_path / "report.md").read_text()
    assert "### Ablations" in md and "lexical (BM25 only)" in md
    data = json.loads((tmp_path / "report.json").read_text())
    assert set(data["reports"]["seeds"]["by_split"]) == {"dev", "test"}
    assert (tmp_path / "report.png").stat().st_size > 1000
    assert evaluation.reports["seeds"].overall.verbatim == 1.0


def _row(answerable: bool, topic: float, own: float | None = None) -> RowResult:
    return RowResult(
        id=f"r{topic}-{own}",
        kind="lookup",
        split="dev",
        answerable=answerable,
        abstained=False,
        rank=1 if answerable else None,
        char_f1=1.0 if answerable else 0.0,
        source_hit3=answerable,
        verbatim=True,
        quotes=1,
        quote_chars=(100,),
        latency_ms=1.0,
        confidence=topic,
        speaker_confidence=own,
    )


def test_two_thresholds_are_calibrated_together_within_the_false_abstain_budget():
    """The topic gate refuses near misses about no one, the speaker gate those about a
    person who never spoke on the topic; neither may refuse more than 5% of the
    answerable rows, and each sits in the middle of the values that do the same."""
    answerable = [_row(True, 0.5 + i / 100) for i in range(20)]  # topic 0.50-0.69
    answerable += [_row(True, 0.8, 0.4 + i / 100) for i in range(20)]  # own 0.40-0.59
    near = [_row(False, 0.2), _row(False, 0.3)]  # about no one, weak on the topic
    near += [_row(False, 0.9, 0.1), _row(False, 0.9, 0.2)]  # a person's words off the topic
    rows = answerable + near
    t = calibrate(rows)
    assert 0.3 < t.topic < 0.5 and 0.2 < t.speaker < 0.4
    assert t.topic == pytest.approx(0.4, abs=0.06)  # the middle of the 0.30-0.50 gap
    f = figures(apply_threshold(rows, t))
    assert f.false_abstain == 0.0 and f.abstain_recall == 1.0
    # Answerable person rows as weak as the near misses: the budget still holds (two of
    # 43 may be refused), at the cost of refusing fewer near misses.
    low = [_row(True, 0.8, 0.05), _row(True, 0.8, 0.15), _row(True, 0.8, 0.12)]
    t2 = calibrate(answerable + low + near)
    f2 = figures(apply_threshold(answerable + low + near, t2))
    assert f2.false_abstain <= 0.05
    assert apply_threshold([_row(True, 0.6, 0.3)], Thresholds(0.5, 0.35))[0].abstained
    assert not apply_threshold([_row(True, 0.6, None)], Thresholds(0.5, 0.35))[0].abstained
