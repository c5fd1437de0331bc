import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from rag import Assistant, CorpusError, ForeignIndexError, IndexSettings, Settings
from rag.corpus import default_index_dir
from rag.store import CURRENT, FORMAT_VERSION, load
from rag.text import split_sentences

Q = "What did Rutte say about China?"


def generation(index: Path) -> dict:
    return json.loads((index / (index / CURRENT).read_text().strip()).read_text())


def segments(index: Path) -> list[Path]:
    return [index / s["name"] for s in generation(index)["segments"]]


def test_reopening_embeds_nothing_and_answers_the_same(corpus, fresh_index, embedder, assistant):
    again = Assistant(corpus, fresh_index, embedder=embedder)
    assert not again.report.changed
    assert again.report.embedded_sentences == 0
    assert again.ask(Q).quotes == assistant.ask(Q).quotes


def test_manifest_records_model_settings_and_hashes(fresh_index):
    manifest = generation(fresh_index)
    assert manifest["format"] == FORMAT_VERSION == 4
    assert manifest["model"]["name"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert len(manifest["model"]["weights_sha256"]) == 64
    assert manifest["index_settings"] == IndexSettings().as_dict()
    assert len(manifest["documents"]) == 5
    assert all(len(d["sha256"]) == 64 for d in manifest["documents"].values())
    (segment,) = manifest["segments"]
    assert segment["index_type"] == {"sentences": "flat-ip", "passages": "flat-ip"}
    files = json.loads((fresh_index / segment["name"] / "segment.json").read_text())["files"]
    assert set(files) == {
        "articles.json",
        "people.json",
        "text.bin",
        "articles.npy",
        "sentences.npy",
        "passages.npy",
        "sentence_vectors.npy",
        "passage_vectors.npy",
        "sentence_terms.npz",
        "passage_terms.npz",
    }
    assert {d["segment"] for d in manifest["documents"].values()} == {segment["name"]}


def test_adding_changing_removing_an_article_embeds_that_article_alone(
    corpus, fresh_index, embedder
):
    (corpus / "new.md").write_text(
        "A new article about Greenland\n\nRutte said Greenland matters.\n"
    )
    r = Assistant(corpus, fresh_index, embedder=embedder).report
    assert r.added == ("new.md",) and not r.updated and not r.removed
    assert r.embedded_sentences == 2
    path = corpus / "003_0c27a898a610b2f4.txt"
    path.write_text(path.read_text() + "\nRutte added one more remark about tariffs.\n")
    (corpus / "new.md").unlink()
    a = Assistant(corpus, fresh_index, embedder=embedder)
    assert a.report.updated == ("003_0c27a898a610b2f4.txt",) and a.report.removed == ("new.md",)
    assert a.report.embedded_sentences == len(split_sentences(path.read_text()))
    assert [d.source for d in a.documents()] == sorted(p.name for p in corpus.glob("*.txt"))
    answer = a.ask("What remark did Rutte add about tariffs?")
    assert any("one more remark" in q.text for q in answer.quotes)


@pytest.mark.parametrize("damage", ["garble", "truncate", "manifest", "pointer", "delete"])
def test_damaged_index_is_reported_and_rebuilt(corpus, fresh_index, embedder, assistant, damage):
    (segment,) = segments(fresh_index)
    vectors = segment / "sentence_vectors.npy"
    if damage == "garble":
        data = bytearray(vectors.read_bytes())
        data[-100] ^= 0xFF
        vectors.write_bytes(bytes(data))
    elif damage == "truncate":
        vectors.write_bytes(vectors.read_bytes()[:1000])
    elif damage == "manifest":
        (fresh_index / (fresh_index / CURRENT).read_text()).write_text("{not json")
    elif damage == "pointer":
        (fresh_index / CURRENT).write_text("../../etc")
    else:
        (segment / "articles.json").unlink()
    again = Assistant(corpus, fresh_index, embedder=embedder)
    assert again.report.rebuilt_because and "unusable" in again.report.rebuilt_because
    assert again.ask(Q).quotes == assistant.ask(Q).quotes
    assert load(fresh_index) is not None  # the rebuilt index is sound


def test_index_built_with_other_settings_is_rebuilt_naming_both(corpus, fresh_index, embedder):
    other = Settings(index=IndexSettings(passage_sentences=3, passage_stride=1))
    a = Assistant(corpus, fresh_index, other, embedder=embedder)
    assert "passage_sentences" in (a.report.rebuilt_because or "")
    assert a.report.embedded_sentences > 100


def test_bad_files_are_reported_by_name_and_skipped(corpus, fresh_index, embedder, tmp_path):
    (corpus / "latin1.txt").write_bytes("Caf\xe9 au lait, a story\n".encode("latin-1"))
    (corpus / "binary.txt").write_bytes(b"\x89PNG\x00\x00\x01")
    (corpus / "empty.md").write_text("  \n\n")
    outside = tmp_path / "outside.txt"
    outside.write_text("A secret outside the corpus\n\nNothing to see.\n")
    (corpus / "link.txt").symlink_to(outside)
    (corpus / "notes.pdf").write_bytes(b"%PDF")
    (corpus / "naïve name with spaces.txt").write_text(
        "Ünïcödé names work fine\n\nRutte visited Oslo.\n"
    )
    a = Assistant(corpus, fresh_index, embedder=embedder)
    reasons = dict(a.report.skipped)
    assert set(reasons) == {"latin1.txt", "binary.txt", "empty.md", "link.txt"}
    assert "UTF-8" in reasons["latin1.txt"] and "binary" in reasons["binary.txt"]
    assert "empty" in reasons["empty.md"] and "outside" in reasons["link.txt"]
    assert a.report.added == ("naïve name with spaces.txt",)
    assert len(a.documents()) == 6
    assert any("Oslo" in q.text for q in a.ask("Which city did Rutte visit, Oslo?").quotes)


def test_empty_corpus_folder_gives_no_quotes(tmp_path, embedder):
    (tmp_path / "empty").mkdir()
    a = Assistant(tmp_path / "empty", tmp_path / "index", embedder=embedder)
    assert a.documents() == []
    assert a.ask(Q).abstained


def test_missing_corpus_folder_is_a_clear_error(tmp_path, embedder):
    with pytest.raises(CorpusError, match="does not exist"):
        Assistant(tmp_path / "nope", tmp_path / "index", embedder=embedder)


def test_add_article_checks_saves_indexes_and_refuses_bad_input(corpus, fresh_index, embedder):
    a = Assistant(corpus, fresh_index, embedder=embedder)
    report = a.add_article("oslo.txt", b"Rutte in Oslo\n\nRutte praised Norway's fjords.\n")
    assert report.added == ("uploads/oslo.txt",)
    assert any("fjords" in q.text for q in a.ask("What did Rutte praise in Norway?").quotes)
    for name, data, why in [
        ("../../evil.txt", b"Evil article\n\nx", "plain file name"),
        ("/etc/evil.txt", b"Evil article\n\nx", "plain file name"),
        ("evil.exe", b"MZ", "only .txt and .md"),
        ("big.txt", b"a" * 6_000_000, "over the limit"),
        ("bin.txt", b"\x00\x01", "binary"),
        ("oslo.txt", b"Again\n\nx", "already in the corpus"),
        (".hidden.txt", b"Hidden\n\nx", "dot"),
        ("articles.zip", b"PK\x03\x04" + bytes(30), "only .txt and .md"),
        ("renamed-archive.txt", b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(30), "binary"),
    ]:
        with pytest.raises(CorpusError, match=why):
            a.add_article(name, data)
    assert not (corpus.parent / "evil.txt").exists()


def test_vectors_are_unit_length(fresh_index):
    index = load(fresh_index)
    assert index is not None
    norms = np.linalg.norm(index.sentence_vectors, axis=1)
    assert np.allclose(norms, 1.0, atol=1e-4)


def test_stale_temporary_build_is_ignored_and_cleaned(corpus, fresh_index, embedder):
    leftover = fresh_index / ".tmp-deadbeef"
    shutil.copytree(segments(fresh_index)[0], leftover)
    (leftover / "sentence_vectors.npy").write_bytes(b"half written")
    (corpus / "x.txt").write_text("An extra article to force a write\n\nRutte spoke.\n")
    Assistant(corpus, fresh_index, embedder=embedder)
    assert not leftover.exists()


def test_large_corpora_get_approximate_indexes_saved_and_checked(
    corpus, tmp_path, embedder, assistant, monkeypatch
):
    from rag.store import faiss_index

    # Pretend the seeds are large: 141 sentences take IVF-PQ, 67 passages take HNSW.
    monkeypatch.setattr(faiss_index, "HNSW_FROM", 10)
    monkeypatch.setattr(faiss_index, "IVF_FROM", 100)
    a = Assistant(corpus, tmp_path / "index", embedder=embedder)
    (entry,) = generation(tmp_path / "index")["segments"]
    assert entry["index_type"] == {"sentences": "ivf-pq48", "passages": "hnsw32"}
    segment = tmp_path / "index" / entry["name"]
    files = json.loads((segment / "segment.json").read_text())["files"]
    assert {"sentences.faiss", "passages.faiss"} <= set(files)
    first = a.ask(Q).quotes[0]
    assert "crucial lifeline" in first.text
    again = Assistant(corpus, tmp_path / "index", embedder=embedder)
    assert not again.report.changed and again.ask(Q).quotes == a.ask(Q).quotes
    data = bytearray((segment / "sentences.faiss").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (segment / "sentences.faiss").write_bytes(bytes(data))
    rebuilt = Assistant(corpus, tmp_path / "index", embedder=embedder)
    assert "garbled" in (rebuilt.report.rebuilt_because or "")


# -- which index serves which corpus; uploads ------------------------------------------------

HARBOUR = "Harbour works in Velmora\n\nMayor Ilse Varga said the new harbour would open in May.\n"
ORCHARD = "Orchards of Tessin\n\nFarmer Kalle Brun said the apple harvest was poor this year.\n"
FERRY = (
    "A ferry for Lundholm\n\n"
    "Captain Oren Malk said the night ferry to Lundholm would carry forty cars.\n"
    '"The crossing takes two hours," Malk told the harbour board.\n'
)


def tiny(folder: Path, **articles: str) -> Path:
    folder.mkdir(parents=True)
    for name, text in articles.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    return folder


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_each_corpus_folder_gets_its_own_default_index_folder(tmp_path, embedder, monkeypatch):
    monkeypatch.chdir(tmp_path)
    a = tiny(tmp_path / "news", harbour=HARBOUR)
    b = tiny(tmp_path / "other" / "news", orchard=ORCHARD)  # the same folder name
    assert default_index_dir("news") == default_index_dir(a) == default_index_dir(a / ".." / "news")
    assert default_index_dir(a) != default_index_dir(b)
    assert default_index_dir(a).parent == Path("index") and default_index_dir(a).name.startswith(
        "news-"
    )
    first = Assistant("news", embedder=embedder)
    assert first.index_dir == default_index_dir(a) and (first.index_dir / CURRENT).is_file()
    before = files_of(first.index_dir)
    second = Assistant(b, embedder=embedder)
    assert second.index_dir == default_index_dir(b) != first.index_dir
    assert files_of(first.index_dir) == before  # the first corpus's index is untouched
    assert second.documents()[0].source == "orchard.txt"
    assert [d.source for d in Assistant(a, embedder=embedder).documents()] == ["harbour.txt"]


def test_an_index_of_another_corpus_folder_is_refused_naming_both(tmp_path, embedder):
    a = tiny(tmp_path / "a", harbour=HARBOUR)
    b = tiny(tmp_path / "b", orchard=ORCHARD)
    index = tmp_path / "index"
    Assistant(a, index, embedder=embedder)
    before = files_of(index)
    with pytest.raises(ForeignIndexError) as refused:
        Assistant(b, index, embedder=embedder)
    message = str(refused.value)
    assert str(a.resolve()) in message and str(b.resolve()) in message
    assert "--index-dir" in message and f"delete {index}" in message
    assert files_of(index) == before  # nothing read into it, nothing written


def test_the_same_corpus_by_another_path_or_moved_with_its_index_is_accepted(
    tmp_path, embedder, monkeypatch
):
    project = tmp_path / "project"
    tiny(project / "news", harbour=HARBOUR)
    monkeypatch.chdir(project)
    Assistant("news", "idx", embedder=embedder)
    monkeypatch.chdir(tmp_path)  # another working directory, another spelling
    again = Assistant(project / "news", project / "idx", embedder=embedder)
    assert not again.report.changed and again.report.embedded_sentences == 0
    shutil.move(project, tmp_path / "moved")  # the corpus and its index move together
    moved = Assistant(tmp_path / "moved" / "news", tmp_path / "moved" / "idx", embedder=embedder)
    assert not moved.report.changed and moved.report.embedded_sentences == 0


def test_an_index_that_records_no_corpus_is_claimed_when_it_shares_an_article(tmp_path, embedder):
    """Indexes of earlier versions record no corpus folder: the corpus that shares an
    article with one takes it (and it is recorded); a corpus sharing none is refused."""
    a = tiny(tmp_path / "a", harbour=HARBOUR)
    b = tiny(tmp_path / "b", orchard=ORCHARD)
    index = tmp_path / "index"
    Assistant(a, index, embedder=embedder)
    name = (index / CURRENT).read_text().strip()
    old = json.loads((index / name).read_text())
    del old["corpus"]
    (index / name).write_text(json.dumps(old))
    with pytest.raises(ForeignIndexError, match="earlier version.*none of its 1 articles"):
        Assistant(b, index, embedder=embedder)
    claimed = Assistant(a, index, embedder=embedder)
    assert claimed.report.embedded_sentences == 0 and not claimed.report.changed
    assert generation(index)["corpus"]["path"] == str(a.resolve())
    with pytest.raises(ForeignIndexError):
        Assistant(b, index, embedder=embedder)


def test_uploads_are_saved_outside_the_corpus_folder_and_outlive_a_restart(tmp_path, embedder):
    corpus = tiny(tmp_path / "corpus", harbour=HARBOUR, orchard=ORCHARD)
    index = tmp_path / "index"
    before = files_of(corpus)
    a = Assistant(corpus, index, embedder=embedder)
    report = a.add_article("ferry.txt", FERRY.encode())
    assert report.added == ("uploads/ferry.txt",) and report.embedded_sentences > 0
    assert (index / "uploads" / "ferry.txt").read_bytes() == FERRY.encode()
    assert files_of(corpus) == before  # the corpus folder is unchanged, byte for byte
    question = "How many cars will the night ferry to Lundholm carry?"
    (quote, *_) = a.ask(question).quotes
    assert quote.source == "uploads/ferry.txt" and "forty cars" in quote.text
    assert a.source_path(quote.source).read_text(encoding="utf-8")[quote.start : quote.end] == (
        quote.text
    )
    assert a.sync().removed == ()  # a rescan of the corpus folder keeps the upload
    assert "uploads/ferry.txt" in [d.source for d in a.documents()]
    restarted = Assistant(corpus, index, embedder=embedder)
    assert not restarted.report.changed and restarted.report.embedded_sentences == 0
    assert restarted.ask(question).quotes[0].source == "uploads/ferry.txt"
    with pytest.raises(CorpusError, match="ferry.txt: an article of that name"):
        restarted.add_article("ferry.txt", b"Another ferry\n\nIt sank.\n")
    with pytest.raises(CorpusError, match="harbour.txt: an article of that name"):
        restarted.add_article("harbour.txt", b"Another harbour\n\nIt closed.\n")
    assert files_of(corpus) == before


def test_a_text_already_in_the_corpus_is_refused_naming_its_article(tmp_path, embedder):
    corpus = tiny(tmp_path / "corpus", harbour=HARBOUR)
    a = Assistant(corpus, tmp_path / "index", embedder=embedder)
    # Line endings and runs of white space do not make a text new.
    respaced = HARBOUR.replace("\n", "\r\n").replace(" said ", "  said\t").encode()
    for name, data, holder in [
        ("copy.txt", HARBOUR.encode(), "harbour.txt"),
        ("respaced.md", respaced, "harbour.txt"),
        ("padded.txt", b"\n\n  " + HARBOUR.encode() + b"\n\n", "harbour.txt"),
    ]:
        with pytest.raises(CorpusError) as refused:
            a.add_article(name, data)
        assert str(refused.value) == f"{name}: the same text is already in the corpus as {holder}"
    a.add_article("ferry.txt", FERRY.encode())
    with pytest.raises(CorpusError, match="as uploads/ferry.txt$"):
        a.add_article("ferry-again.txt", FERRY.encode())
    # A word changed is another text.
    a.add_article("harbour-june.txt", HARBOUR.replace("May", "June").encode())
    assert sorted(p.name for p in (tmp_path / "index" / "uploads").iterdir()) == [
        "ferry.txt",
        "harbour-june.txt",
    ]


def test_an_index_folder_inside_the_corpus_folder_is_not_read_as_articles(tmp_path, embedder):
    corpus = tiny(tmp_path / "corpus", harbour=HARBOUR)
    a = Assistant(corpus, corpus / "index", embedder=embedder)
    a.add_article("ferry.txt", FERRY.encode())
    again = Assistant(corpus, corpus / "index", embedder=embedder)
    assert [d.source for d in again.documents()] == ["harbour.txt", "uploads/ferry.txt"]
    assert not again.report.changed
