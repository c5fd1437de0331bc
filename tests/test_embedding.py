from pathlib import Path

import numpy as np

from rag.config import MAX_PASSAGE_TOKENS
from rag.store import load


def test_fast_query_path_matches_sentence_transformers_on_every_seed_text(embedder, seeds_index):
    index = load(seeds_index[1])
    assert index is not None
    from rag.text import fold

    texts = [fold(r.sentence_text(i)) for r in index.records for i in range(len(r.sentences))]
    texts += [fold(r.passage_text(p)) for r in index.records for p in range(len(r.passages))]
    fast = embedder.encode_queries(texts)
    reference = embedder.encode(texts)
    cosine = (fast * reference).sum(axis=1)
    assert cosine.min() >= 0.999, cosine.min()


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
