"""The embedding routes: the NumPy pass embeds the corpus and questions, and agrees with
sentence-transformers (the reference) on real text, in corpus-sized batches, whatever the
batching, and on texts cut at the model's window exactly where it cuts them.

Tolerance: max |Δ| ≤ 1e-5 per coordinate and cosine ≥ 0.99999. The two routes differ only
in float32 rounding (other matrix kernels, another summation order; about 1e-7 measured),
so 1e-5 leaves a hundredfold margin and still catches any change of model (a wrong
GELU, pooling, or truncation moves vectors by 1e-3 and more).
"""

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from rag import minibert
from rag.config import MAX_PASSAGE_TOKENS
from rag.embedding import Embedder
from rag.store import load
from rag.text import fold

MAX_DELTA = 1e-5
MIN_COSINE = 0.99999
ROOT = Path(__file__).resolve().parent.parent


def agree(fast: np.ndarray, reference: np.ndarray) -> None:
    assert fast.shape == reference.shape and fast.dtype == np.float32
    assert np.abs(fast - reference).max() <= MAX_DELTA, np.abs(fast - reference).max()
    cosine = (fast * reference).sum(axis=1)
    assert cosine.min() >= MIN_COSINE, cosine.min()


def corpus_texts(index_dir: Path) -> list[str]:
    """Every seed sentence and passage as the index embeds them, and the whole articles
    (long: cut at the window)."""
    index = load(index_dir)
    assert index is not None
    texts = [fold(r.sentence_text(i)) for r in index.records for i in range(len(r.sentences))]
    texts += [fold(r.passage_text(p)) for r in index.records for p in range(len(r.passages))]
    return texts + [fold(r.document.text) for r in index.records]


def test_the_default_model_embeds_the_corpus_by_the_numpy_route(embedder):
    assert embedder.backend == "numpy"
    assert embedder.encode([]).shape == (0, 384)


def test_numpy_matches_sentence_transformers_on_the_whole_corpus_in_one_call(embedder, seeds_index):
    texts = corpus_texts(seeds_index[1])
    assert len(texts) > 200
    fast = embedder.encode(texts)  # one call, batched as an index build batches
    agree(fast, embedder.encode_reference(texts))
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-6)
    agree(embedder.encode_queries(texts[:20]), fast[:20])


def test_a_vector_does_not_depend_on_its_batch(embedder, seeds_index):
    fast = embedder._fast_encoder()
    texts = corpus_texts(seeds_index[1])[::5]
    together = fast.encode(texts)
    alone = np.stack([fast.encode([t])[0] for t in texts])
    assert np.abs(together - alone).max() <= 1e-6
    finished: list[int] = []
    small = fast.encode(texts, batch_tokens=64, batch_size=3, done=finished.append)
    assert np.abs(together - small).max() <= 1e-6
    assert sum(finished) == len(texts) and len(finished) > len(texts) // 3


def _exactly(embedder: Embedder, text: str, pieces: int) -> str:
    """`text` cut or lengthened (with " the", one word piece) to `pieces` word pieces,
    special tokens included."""
    words = text.split()
    while embedder.count_tokens(" ".join(words)) > pieces:
        words.pop()
    out = " ".join(words)
    while embedder.count_tokens(out) < pieces:
        out += " the"
    assert embedder.count_tokens(out) == pieces
    return out


def test_long_texts_are_cut_where_sentence_transformers_cuts_them(embedder, seeds_index):
    st = embedder._sentence_transformer()
    fast = embedder._fast_encoder()
    limit = st.max_seq_length
    assert fast.max_tokens == limit == 256
    index = load(seeds_index[1])
    assert index is not None
    article = fold(index.records[0].document.text)
    assert embedder.count_tokens(article) > 2 * limit
    texts = [_exactly(embedder, article, n) for n in (limit - 1, limit, limit + 1, limit + 2)]
    texts += [article, article + " " + article]
    preprocess = getattr(st, "preprocess", None) or st.tokenize
    for text in texts:
        reference = preprocess([text])["input_ids"][0].tolist()
        assert fast.tokenizer.encode(text).ids == reference
        assert len(reference) == min(limit, embedder.count_tokens(text))
    vectors = embedder.encode(texts)
    agree(vectors, embedder.encode_reference(texts))
    # Past the window the words are not seen: the article and the article twice agree.
    assert np.abs(vectors[-1] - vectors[-2]).max() <= 1e-6


def test_a_model_the_numpy_pass_does_not_reproduce_goes_through_sentence_transformers(
    embedder, tmp_path
):
    folder = tmp_path / "cls-model"
    folder.mkdir()
    for item in Path(embedder.ref.path).iterdir():
        (folder / item.name).symlink_to(item)
    (folder / "1_Pooling").unlink()
    (folder / "1_Pooling").mkdir()
    pooling = json.loads((Path(embedder.ref.path) / "1_Pooling" / "config.json").read_text())
    pooling |= {"pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    other = Embedder(str(folder))
    assert other.backend == "sentence-transformers"
    texts = ["The minister spoke about the budget.", "Rutte said China was a lifeline."]
    vectors = other.encode(texts)
    assert np.array_equal(vectors, other.encode_reference(texts))
    assert np.abs(vectors - embedder.encode(texts)).max() > 1e-3  # another model indeed


def test_preloading_loads_the_encoder_once(embedder):
    fresh = Embedder()
    fresh.preload()
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(fresh._fast_encoder())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got[0] is not None and all(g is got[0] for g in got)
    fresh.preload()  # loaded: nothing more
    assert fresh._fast_encoder() is got[0]
    agree(fresh.encode(["hello"]), embedder.encode_reference(["hello"]))


def test_building_updating_and_asking_never_import_torch(tmp_path):
    """A new process builds the seeds' index, asks, and takes an upload: no torch,
    sentence-transformers or gradio on the way."""
    code = """
import sys
from rag import Assistant
assistant = Assistant(sys.argv[1], sys.argv[2])
assert assistant.report.embedded_sentences > 0
assert assistant.ask("What did Rutte say about China?").quotes
text = "Ferry route approved\\n\\nThe council approved a ferry, Mira Tolvanen said.\\n"
assistant.add_article("ferry.txt", text.encode())
assert assistant.ask("What did Tolvanen say about the ferry?").quotes[0].source == "uploads/ferry.txt"
heavy = ("torch", "sentence_transformers", "transformers", "sklearn", "gradio")
print(",".join(m for m in heavy if m in sys.modules))
"""
    import shutil

    shutil.copytree(ROOT / "seeds", tmp_path / "corpus")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "corpus"), str(tmp_path / "index")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "", f"imported: {done.stdout.strip()}"


def test_passages_fit_the_model_window(embedder, seeds_index):
    index = load(seeds_index[1])
    assert index is not None
    for r in index.records:
        for p in range(len(r.passages)):
            assert embedder.count_tokens(r.passage_text(p)) <= MAX_PASSAGE_TOKENS


def test_model_identity_is_the_weights_hash(embedder):
    import hashlib

    path = Path(embedder.ref.path) / "model.safetensors"
    assert embedder.weights_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert np.isclose(np.linalg.norm(embedder.encode_queries(["hello"])[0]), 1.0)


@pytest.mark.parametrize("count", [1, 7, 64])
def test_batches_cover_every_text_once_within_the_budget(count):
    rng = np.random.default_rng(count)
    lengths = [int(n) for n in rng.integers(3, 300, size=count)]
    batches = minibert._batches(lengths, 512, 16)
    assert sorted(int(i) for b in batches for i in b) == list(range(count))
    for b in batches:
        assert len(b) <= 16
        assert len(b) == 1 or len(b) * max(lengths[i] for i in b) <= 512
        assert lengths[b[-1]] == max(lengths[i] for i in b)


def test_an_index_built_by_either_route_serves_the_other(corpus, tmp_path, embedder, monkeypatch):
    """The index's identity is the model, not the route: vectors from sentence-transformers
    are reused as they are by the NumPy route, and both answer alike."""
    from rag import Assistant

    monkeypatch.setattr(embedder, "encode", embedder.encode_reference)
    built = Assistant(corpus, tmp_path / "index", embedder=embedder)
    assert built.report.embedded_sentences > 0
    monkeypatch.undo()
    reopened = Assistant(corpus, tmp_path / "index", embedder=embedder)
    assert reopened.report.embedded_sentences == 0 and reopened.report.rebuilt_because is None
    numpy_built = Assistant(corpus, tmp_path / "numpy-index", embedder=embedder)
    question = "What did Rutte say about China?"
    assert [q.text for q in reopened.ask(question).quotes] == [
        q.text for q in numpy_built.ask(question).quotes
    ]
