"""The index in segments: adding an article writes that article alone, and answers the same."""

import json
import shutil

import numpy as np
import pytest
from scipy import sparse

from rag import Assistant
from rag.lexical import BM25, TermCounts
from rag.store import CURRENT, load
from rag.store.files import StoredRows
from rag.text import split_sentences, tokenize

ARTICLES = {
    "oslo.txt": b"Rutte in Oslo\n\nRutte praised Norway's fjords and its defence spending.\n",
    "bern.txt": b"Talks in Bern\n\nZelensky said the talks in Bern were about prisoners.\n",
    "rome.md": b"A visit to Rome\n\nMerz told reporters in Rome that tariffs hurt everyone.\n",
}
QUESTIONS = [
    "What did Rutte praise in Norway?",
    "What did Rutte say about China?",
    "What were the talks in Bern about?",
    "Who said tariffs hurt everyone?",
    "How much does Ukraine spend on drones?",
]


def live(index):
    manifest = json.loads((index / (index / CURRENT).read_text()).read_text())
    return [s["name"] for s in manifest["segments"]]


def same_answers(a: Assistant, b: Assistant) -> None:
    for q in QUESTIONS:
        x, y = a.ask(q), b.ask(q)
        assert x.abstained == y.abstained, q
        assert [(c.source, c.start, c.end) for c in x.quotes] == [
            (c.source, c.start, c.end) for c in y.quotes
        ], q
        assert x.confidence == pytest.approx(y.confidence, abs=1e-4), q


def test_adding_articles_writes_a_segment_each_and_answers_as_a_full_build(
    corpus, fresh_index, embedder, tmp_path
):
    a = Assistant(corpus, fresh_index, embedder=embedder)
    (base,) = live(fresh_index)
    for name, data in ARTICLES.items():
        report = a.add_article(name, data)
        assert report.added == (f"uploads/{name}",)
        assert report.embedded_sentences == len(split_sentences(data.decode()))
    names = live(fresh_index)
    assert names[0] == base and len(names) == 4  # the seeds' segment was left as it was
    assert len(a.documents()) == 8
    assert [d.source for d in a.documents()] == sorted(p.name for p in corpus.iterdir()) + [
        f"uploads/{name}" for name in sorted(ARTICLES)
    ]
    # A full build of the same articles: the corpus folder and the uploads.
    shutil.copytree(a.uploads_dir, tmp_path / "rebuilt" / "uploads")
    rebuilt = Assistant(corpus, tmp_path / "rebuilt", embedder=embedder)
    assert len(live(tmp_path / "rebuilt")) == 1
    same_answers(a, rebuilt)
    # A new process opens the segments as saved, reading nothing into a rebuild.
    reopened = Assistant(corpus, fresh_index, embedder=embedder)
    assert not reopened.report.changed
    same_answers(reopened, rebuilt)


def test_segments_are_merged_past_the_limit(corpus, fresh_index, embedder, monkeypatch):
    from rag.store import pipeline

    monkeypatch.setattr(pipeline, "MAX_SEGMENTS", 2)
    a = Assistant(corpus, fresh_index, embedder=embedder)
    for name, data in ARTICLES.items():
        a.add_article(name, data)
        assert len(live(fresh_index)) <= 2
    # Merging reuses the vectors it moves: only the article added is embedded.
    assert a.report.embedded_sentences == len(split_sentences(ARTICLES["rome.md"].decode()))
    assert len(a.documents()) == 8
    assert any("fjords" in q.text for q in a.ask(QUESTIONS[0]).quotes)
    on_disk = {p.name for p in fresh_index.iterdir() if p.name.startswith("seg-")}
    assert on_disk == set(live(fresh_index))  # merged-away segments are deleted


def test_changing_one_article_rewrites_its_segment_only(corpus, fresh_index, embedder):
    a = Assistant(corpus, fresh_index, embedder=embedder)
    (corpus / "oslo.txt").write_bytes(ARTICLES["oslo.txt"])
    assert a.sync().added == ("oslo.txt",)
    base, small = live(fresh_index)
    (corpus / "oslo.txt").write_bytes(ARTICLES["oslo.txt"] + b"\nRutte also visited Bergen.\n")
    report = a.sync()
    assert report.updated == ("oslo.txt",)
    assert report.embedded_sentences == len(split_sentences((corpus / "oslo.txt").read_text()))
    names = live(fresh_index)
    assert names[0] == base and small not in names and len(names) == 2
    assert any("Bergen" in q.text for q in a.ask("Which other city did Rutte visit?").quotes)


def test_add_falls_back_to_a_full_sync_when_another_process_changed_the_index(
    corpus, fresh_index, embedder
):
    a = Assistant(corpus, fresh_index, embedder=embedder)
    (corpus / "bern.txt").write_bytes(ARTICLES["bern.txt"])
    Assistant(corpus, fresh_index, embedder=embedder)  # another process indexes bern.txt
    a.add_article("oslo.txt", ARTICLES["oslo.txt"])
    assert {"bern.txt", "uploads/oslo.txt"} <= {d.source for d in a.documents()}
    index = load(fresh_index)
    assert index is not None and index.size == a._index.size


def test_vectors_are_read_from_their_files_as_asked_for_not_held(fresh_index):
    index = load(fresh_index)
    assert index is not None
    for s in index.segments:
        assert isinstance(s.sentence_vectors, StoredRows)
        assert isinstance(s.passage_vectors, StoredRows)
        whole = np.load(fresh_index / s.name / "sentence_vectors.npy")
        ids = np.array([7, 3, 3, 0, len(whole) - 1, 4, 5, 6])
        np.testing.assert_array_equal(s.sentence_vectors[ids], whole[ids])
        np.testing.assert_array_equal(s.sentence_vectors[2:9], whole[2:9])
        np.testing.assert_array_equal(s.sentence_vectors[-1], whole[-1])
        np.testing.assert_array_equal(np.asarray(s.sentence_vectors), whole)
        with pytest.raises(IndexError):
            s.sentence_vectors[np.array([len(whole)])]


def test_bm25_matches_bm25s_and_does_not_depend_on_segmenting(assistant):
    import bm25s

    texts = [
        tokenize(r.sentence_text(i))
        for r in assistant._index.records
        for i in range(len(r.sentences))
    ]
    reference = bm25s.BM25()
    reference.index(texts, show_progress=False)
    whole = BM25([TermCounts.count(texts)])
    parts = BM25(
        [TermCounts.count(texts[:50]), TermCounts.count(texts[50:51]), TermCounts.count(texts[51:])]
    )
    for question in ["Rutte China lifeline", "Zelensky Zelensky peace plan", "tariffs", "nothing"]:
        tokens = tokenize(question)
        known = [t for t in tokens if t in reference.vocab_dict]
        expected = reference.get_scores(known) if known else np.zeros(len(texts))
        np.testing.assert_allclose(whole.scores(tokens), expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(parts.scores(tokens), expected, rtol=1e-5, atol=1e-6)
    # As saved and read back; and passages, which keep their postings only.
    counts = TermCounts.count(texts)
    again = TermCounts.from_arrays(counts.to_arrays(), len(texts))
    assert again.rows is not None and counts.rows is not None
    np.testing.assert_array_equal(again.rows.toarray(), counts.rows.toarray())
    n = len(texts) // 2  # passages of two sentences each
    members = sparse.csr_matrix(
        (np.ones(2 * n, np.int32), (np.repeat(np.arange(n), 2), np.arange(2 * n))),
        shape=(n, len(texts)),
    )
    pairs = counts.combine(members)
    assert pairs.rows is None and pairs.texts == n
    saved = TermCounts.from_arrays(pairs.to_arrays(), pairs.texts)
    assert saved.rows is None
    joined = [texts[2 * i] + texts[2 * i + 1] for i in range(n)]
    for question in ["Rutte China lifeline", "tariffs"]:
        tokens = tokenize(question)
        expected = BM25([TermCounts.count(joined)]).scores(tokens)
        np.testing.assert_allclose(BM25([saved]).scores(tokens), expected, rtol=1e-5)
    with pytest.raises(ValueError, match="no rows"):
        pairs.terms(0)


def test_related_terms_join_stems_of_one_word_family():
    bm25 = BM25(
        [
            TermCounts.count(
                [
                    tokenize(t)
                    for t in [
                        "occupation of the Baltic states",
                        "territories recognized de jure",
                        "recognitions",
                        "the general",
                        "generation",
                    ]
                ]
            )
        ]
    )
    assert bm25.related(tokenize("occupied")[0]) == ["occup"]
    assert bm25.related(tokenize("recognising")[0]) == ["recogn", "recognit"]
    assert bm25.related("occup") == []  # the term itself is not "related"
    assert bm25.related("gen") == []  # too short to say
    # A term the corpus never uses meets its spellings a letter or two apart.
    assert bm25.related(tokenize("Baltik")[0]) == ["baltic"]
    assert "generat" in bm25.related(tokenize("generashion")[0])
    # Weighted terms: a related term counts at its weight.
    half = bm25.scores(["occup"], [0.5])
    np.testing.assert_allclose(half, bm25.scores(["occup"]) / 2, rtol=1e-6)


def test_an_index_of_the_older_format_is_rebuilt_saying_so(corpus, fresh_index, embedder):
    old = fresh_index / "gen-20250101-000000-deadbeef"
    old.mkdir()
    (old / "manifest.json").write_text('{"format": 2}')
    (fresh_index / CURRENT).write_text(old.name)
    a = Assistant(corpus, fresh_index, embedder=embedder)
    assert "older format" in (a.report.rebuilt_because or "")
    assert not old.exists() and len(a.documents()) == 5


def test_a_new_analysis_reads_the_articles_again_without_embedding_them(
    corpus, fresh_index, embedder, monkeypatch
):
    """Upgrading the speaker rules must not re-embed a newsroom's corpus."""
    from rag.store import pipeline as store

    before = Assistant(corpus, fresh_index, embedder=embedder)
    monkeypatch.setattr(store, "SPLITTER", store.SPLITTER + "+next")
    after = Assistant(corpus, fresh_index, embedder=embedder)
    assert "analysed again" in (after.report.rebuilt_because or "")
    assert after.report.embedded_sentences == 0 and after.report.embedded_passages == 0
    assert len(after.documents()) == len(before.documents())
    manifest = json.loads((fresh_index / (fresh_index / CURRENT).read_text()).read_text())
    assert manifest["splitter"] == store.SPLITTER
    same_answers(before, after)
    # Opened again with the same rules, nothing is analysed or embedded.
    again = Assistant(corpus, fresh_index, embedder=embedder)
    assert again.report.rebuilt_because is None and not again.report.changed
