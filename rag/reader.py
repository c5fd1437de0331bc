"""The reading model: how likely a sentence is to answer a question, without torch.

Why: retrieval (bi-encoder cosine and BM25) ranks sentences by topic, and a sentence on the
topic of a question is often not its answer; an assistant that must abstain when the
articles hold no answer needs a judge of exactly that. The judge is a small cross-encoder
(all-MiniLM-L6-v2 fine-tuned on SQuAD, see `reader/train.py` and `weights/READER.md`),
run here with the NumPy BERT of `rag.minibert`, so that scoring needs neither torch nor
sentence-transformers.

The shipped file holds everything training changed, in fp16; the word embeddings were
frozen and are read from the installed MiniLM package. Both are checked at load: the file
against the SHA-256 in its sidecar JSON, the embeddings against theirs, and a missing or
damaged file raises `ModelError` naming it and the command that rebuilds it.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.errors import ModelError
from rag.minibert import NumpyCrossEncoder

DEFAULT_WEIGHTS = Path(__file__).resolve().parent / "weights" / "reader.safetensors"
REBUILD = "make reader"
_WORD_EMBEDDINGS = "bert.embeddings.word_embeddings.weight"
_CONFIG = ("hidden_size", "num_hidden_layers", "num_attention_heads", "layer_norm_eps")
CACHE_PAIRS = 50_000  # pairs whose score is kept: a question asked again is not read again


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Reader:
    """Scores (question, sentence) pairs: P(the sentence answers the question).

    Why a cross-encoder: it reads the question and the sentence together, so it can see
    that "Who founded X?" is answered by "X was founded by Y" and not by "X is in Z",
    which a cosine of separate embeddings cannot. Build one with `Reader.load()`; it is
    immutable after loading and safe to share between threads.
    """

    sha256: str
    max_length: int

    def __init__(self, model: NumpyCrossEncoder, sha256: str, max_length: int) -> None:
        self._model = model
        self.sha256 = sha256
        self.max_length = max_length
        self._cache: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: Path | None = None, *, max_length: int | None = None) -> Reader:
        """Load the weights at `path` (default: the shipped file) and check them.

        `max_length` caps the word pieces of a pair (question, sentence and three special
        tokens; the longer side, in practice the sentence, is cut): fewer is faster and
        less exact. None keeps the length the model was trained with.
        """
        from safetensors import safe_open
        from safetensors.numpy import load_file

        from rag.embedding import resolve_model

        path = Path(path) if path is not None else DEFAULT_WEIGHTS
        sidecar_path = path.with_suffix(".json")
        rebuild = f"rebuild it with `{REBUILD}`"
        if not path.is_file():
            raise ModelError(f"reading model {path} is missing; {rebuild}")
        if not sidecar_path.is_file():
            raise ModelError(f"reading model record {sidecar_path} is missing; {rebuild}")
        try:
            sidecar = json.loads(sidecar_path.read_text(encoding="utf-8"))
            expected = str(sidecar["sha256"])
            embeddings_sha256 = str(sidecar["word_embeddings_sha256"])
            config = {key: sidecar[key] for key in _CONFIG}
            trained_length = int(sidecar["max_length"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(
                f"reading model record {sidecar_path} is unreadable ({exc!r}); {rebuild}"
            ) from exc
        sha256 = _sha256(path)
        if sha256 != expected:
            raise ModelError(
                f"reading model {path} is damaged or stale: SHA-256 {sha256[:12]}… but "
                f"{sidecar_path.name} records {expected[:12]}…; {rebuild}"
            )
        try:
            weights = {k: v.astype(np.float32) for k, v in load_file(str(path)).items()}
        except Exception as exc:
            raise ModelError(f"reading model {path} cannot be read ({exc}); {rebuild}") from exc

        base = resolve_model(None).path
        assert base is not None  # the packaged MiniLM is always a local folder
        with safe_open(str(base / "model.safetensors"), framework="numpy") as fh:
            stored = set(fh.keys())  # the sentence-transformers folder has no "bert." prefix
            name = _WORD_EMBEDDINGS if _WORD_EMBEDDINGS in stored else _WORD_EMBEDDINGS[5:]
            embeddings = fh.get_tensor(name)
        if hashlib.sha256(embeddings.tobytes()).hexdigest() != embeddings_sha256:
            raise ModelError(
                f"the installed MiniLM ({base}) has other word embeddings than the reading "
                f"model {path} was trained with; {rebuild}"
            )
        weights[_WORD_EMBEDDINGS] = embeddings.astype(np.float32)
        length = int(max_length or trained_length)
        model = NumpyCrossEncoder(weights, config, base / "tokenizer.json", length)
        return cls(model, sha256, length)

    def clear_cache(self) -> None:
        """Forget the pairs read so far (a benchmark times reading, not the cache)."""
        with self._lock:
            self._cache.clear()

    def pieces(self, question: str, sentences: Sequence[str]) -> list[int]:
        """Word pieces of each (question, sentence) pair as the model reads it, after the cut."""
        return self._model.pieces([(question, s) for s in sentences])

    def logits(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        """The raw scores (log-odds) behind `score`, float32, one per sentence.

        Pairs read before (the last CACHE_PAIRS) are not read again; the rest are read
        in one batch.
        """
        pairs = [(question, s) for s in sentences]
        out = np.zeros(len(pairs), dtype=np.float32)
        with self._lock:
            known = {i: self._cache.get(p) for i, p in enumerate(pairs)}
        todo = [i for i, z in known.items() if z is None]
        if todo:
            fresh = self._model.logits([pairs[i] for i in todo])
            with self._lock:
                for i, z in zip(todo, fresh, strict=True):
                    self._cache[pairs[i]] = float(z)
                while len(self._cache) > CACHE_PAIRS:
                    self._cache.popitem(last=False)
            out[todo] = fresh
        for i, z in known.items():
            if z is not None:
                out[i] = z
        return out

    def score(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        """P(answers) in [0, 1], float32, one per sentence, in the order given.

        Pass each candidate sentence alone, as the article has it (the model was trained
        on single sentences cut by `rag.text.split_sentences`); pass all of a question's
        candidates in one call, which batches them.
        """
        z = self.logits(question, sentences)
        return (0.5 * (1.0 + np.tanh(0.5 * z))).astype(np.float32)
