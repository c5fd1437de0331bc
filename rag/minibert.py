"""A NumPy forward pass for BERT: sentence encoders (all-MiniLM-L6-v2 and its kin) and the
reading model's cross-encoder.

Why: importing sentence-transformers and torch takes 6-7 s on a small CPU, and a
question needs only the tokenizer and twelve small matrix products. This reads the
same safetensors weights and tokenizer.json and reproduces the model's mean-pooled,
normalised vectors (checked against sentence-transformers in the tests, cosine
> 0.9999). But: only BERT with absolute positions, mean pooling and normalisation;
anything else reports itself unsupported and the caller falls back to
sentence-transformers. `NumpyCrossEncoder` runs the same layers over sentence pairs
(token types, pooler, one-logit head) for `rag.reader`, checked against
sentence-transformers' CrossEncoder in tests/test_reader.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

WEIGHTS_FILE = "model.safetensors"


class Unsupported(Exception):
    """The model folder is not one this forward pass reproduces exactly."""


def _check(folder: Path) -> tuple[dict, int]:
    config_path = folder / "config.json"
    if not (config_path.is_file() and (folder / WEIGHTS_FILE).is_file()):
        raise Unsupported("no config.json or model.safetensors")
    if not (folder / "tokenizer.json").is_file():
        raise Unsupported("no tokenizer.json")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
        raise Unsupported(f"model_type {config.get('model_type')!r} is not plain BERT")
    if config.get("position_embedding_type", "absolute") != "absolute":
        raise Unsupported("relative positions")
    modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
    kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
    if kinds != ["Transformer", "Pooling", "Normalize"]:
        raise Unsupported(f"pipeline {kinds} is not Transformer, Pooling, Normalize")
    pooling_dir = folder / next(m["path"] for m in modules if m["type"].endswith("Pooling"))
    pooling = json.loads((pooling_dir / "config.json").read_text(encoding="utf-8"))
    if not pooling.get("pooling_mode_mean_tokens") or any(
        pooling.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens")
    ):
        raise Unsupported("pooling is not mean")
    max_len = 512
    st_config = folder / "sentence_bert_config.json"
    if st_config.is_file():
        max_len = json.loads(st_config.read_text(encoding="utf-8")).get("max_seq_length", 512)
    return config, int(max_len)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


_LINEARS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)


# Abramowitz & Stegun 7.1.26: erf(z) = 1 - t(a1 + t(a2 + ...)) exp(-z^2), t = 1/(1 + p z),
# for z >= 0, absolute error under 1.5e-7, so float32 noise, not a change of model.
_AS_P = np.float32(0.3275911)
_AS_A = tuple(
    np.float32(a) for a in (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
)


_GELU_BLOCK = 1 << 15  # elements: a block and its two temporaries stay in a core's L2 cache


def _gelu(h: np.ndarray) -> np.ndarray:
    """GELU with erf from a rational fit in float32, in place on `h` (returned).

    About half the time of scipy's erf, and no import of scipy.special (0.4 s) on the way
    to a first vector; its error (under 1e-7 on GELU's output) is float32 noise: the
    sentence vectors agree with sentence-transformers' as closely as with exact erf
    (tests). Run block by block, so that its twenty passes read cache rather than memory:
    twice as fast on a batch's 1024 x 1536 activations (measured here).
    """
    if not h.flags.c_contiguous:
        h = np.ascontiguousarray(h)
    flat = h.reshape(-1)
    for begin in range(0, flat.size, _GELU_BLOCK):
        _gelu_block(flat[begin : begin + _GELU_BLOCK])
    return h


def _gelu_block(h: np.ndarray) -> None:
    a1, a2, a3, a4, a5 = _AS_A
    z = np.abs(h)
    z *= np.float32(1.0 / np.sqrt(2.0))
    t = z * _AS_P
    t += np.float32(1.0)
    np.reciprocal(t, out=t)
    poly = t * a5
    for a in (a4, a3, a2, a1):
        poly += a
        poly *= t
    np.square(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    poly *= z  # 1 - erf(|x|/sqrt 2)
    # GELU(x) = x (1 + erf(x/sqrt 2)) / 2 = (x + |x| erf(|x|/sqrt 2)) / 2
    np.subtract(np.float32(1.0), poly, out=poly)
    np.abs(h, out=z)
    poly *= z
    h += poly
    h *= np.float32(0.5)


class BertLayers:
    """BERT's embeddings and encoder stack over float32 weights named as in `BertModel`.

    Shared by the sentence encoder (`NumpyBert`) and the reading model (`NumpyCrossEncoder`):
    the same matrix products, with token types.
    """

    def __init__(self, weights: dict[str, np.ndarray], config: dict) -> None:
        self._w = weights
        self._eps = float(config.get("layer_norm_eps", 1e-12))
        self._heads = int(config["num_attention_heads"])
        self._layers = int(config["num_hidden_layers"])
        self.dim = int(config["hidden_size"])
        # Pre-transpose the linear layers once: x @ W.T is what torch.nn.Linear computes.
        for i in range(self._layers):
            for name in _LINEARS:
                key = f"encoder.layer.{i}.{name}.weight"
                self._w[key] = np.ascontiguousarray(self._w[key].T)

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        # One 2-D product over all the rows: `x @ W` on a 3-D `x` is a loop of small
        # products in NumPy, each one a threaded BLAS call (up to 20x slower measured here).
        weight = self._w[f"{name}.weight"]
        out = x.reshape(-1, x.shape[-1]) @ weight
        out += self._w[f"{name}.bias"]
        return out.reshape(*x.shape[:-1], weight.shape[1])

    def hidden(
        self,
        ids: np.ndarray,
        mask: np.ndarray,
        types: np.ndarray | None = None,
        *,
        cls_only: bool = False,
    ) -> np.ndarray:
        """Last hidden states, (batch, length, dim); with `cls_only`, (batch, 1, dim) for the
        first token alone, its last layer computed only for that row (keys and values still
        from every token), which is all a classifier on [CLS] needs."""
        w = self._w
        batch, length = ids.shape
        token_types = (
            w["embeddings.token_type_embeddings.weight"][0][None, None]
            if types is None
            else w["embeddings.token_type_embeddings.weight"][types]
        )
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length][None]
            + token_types
        )
        x = _layer_norm(
            x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self._eps
        )
        heads = self._heads
        size = self.dim // heads
        bias = np.where(mask[:, None, None, :] > 0, 0.0, np.finfo(np.float32).min).astype(
            np.float32
        )

        def split(t: np.ndarray) -> np.ndarray:
            return t.reshape(batch, t.shape[1], heads, size).transpose(0, 2, 1, 3)

        for i in range(self._layers):
            p = f"encoder.layer.{i}."
            last = cls_only and i == self._layers - 1
            rows = x[:, :1] if last else x
            q = split(self._linear(rows, p + "attention.self.query"))
            k = split(self._linear(x, p + "attention.self.key"))
            v = split(self._linear(x, p + "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(size)) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, rows.shape[1], self.dim)
            x = _layer_norm(
                self._linear(context, p + "attention.output.dense") + rows,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                self._eps,
            )
            h = _gelu(self._linear(x, p + "intermediate.dense"))
            x = _layer_norm(
                self._linear(h, p + "output.dense") + x,
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
                self._eps,
            )
        return x


# Word pieces a batch holds, padding included: about where one core runs fastest here (a
# batch's activations stay in cache; 4096 and more were slower per text, measured here).
BATCH_TOKENS = 1024


def _batches(lengths: Sequence[int], tokens: int, rows: int) -> list[np.ndarray]:
    """Indices of `lengths` sorted by length (stable), cut into runs whose padded size
    (count × longest) stays within `tokens`, of at most `rows`; a longer text goes alone."""
    order = np.argsort(np.asarray(lengths, dtype=np.int64), kind="stable")
    out: list[np.ndarray] = []
    begin = 0
    while begin < len(order):
        end = begin + 1
        while (
            end < len(order)
            and end - begin < rows
            and lengths[order[end]] * (end - begin + 1) <= tokens
        ):
            end += 1
        out.append(order[begin:end])
        begin = end
    return out


class NumpyBert:
    """Encode texts to unit vectors with NumPy alone (plus `tokenizers`)."""

    def __init__(self, folder: str | Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        folder = Path(folder)
        config, self.max_tokens = _check(folder)
        w = load_file(str(folder / WEIGHTS_FILE))
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in w else ""
        self._bert = BertLayers(
            {k[len(prefix) :]: v.astype(np.float32, copy=False) for k, v in w.items()}, config
        )
        self.dim = self._bert.dim
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.max_tokens)
        self.tokenizer.no_padding()
        self._counter = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._counter.no_truncation()
        self._counter.no_padding()

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        x = self._bert.hidden(ids, mask)
        m = mask[..., None].astype(np.float32)
        pooled = (x * m).sum(1) / np.maximum(m.sum(1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def encode(
        self,
        texts: Sequence[str],
        *,
        batch_tokens: int = BATCH_TOKENS,
        batch_size: int = 256,
        done: Callable[[int], object] | None = None,
    ) -> np.ndarray:
        """Unit vectors, one row per text, float32, in the order given.

        Texts are sorted by length and batched up to `batch_tokens` word pieces (padding
        included) and `batch_size` texts, so that batches pad little and their activations
        stay in cache. Batching does not change a text's vector beyond float32 noise
        (tests). `done`, if given, is called with the number of texts each batch finished
        (a progress bar).
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(list(texts))
        lengths = [len(e.ids) for e in encodings]
        for chunk in _batches(lengths, batch_tokens, batch_size):
            ids = np.zeros((len(chunk), lengths[chunk[-1]]), dtype=np.int64)
            mask = np.zeros_like(ids)
            for row, j in enumerate(chunk):
                ids[row, : lengths[j]] = encodings[j].ids
                mask[row, : lengths[j]] = 1
            out[chunk] = self._forward(ids, mask)
            if done is not None:
                done(len(chunk))
        return out

    def count_tokens(self, text: str) -> int:
        """Word pieces the model sees, special tokens included, before truncation."""
        return len(self._counter.encode(text).ids)


class NumpyCrossEncoder:
    """A one-label BERT sequence classifier over (question, sentence) pairs, in NumPy.

    Reproduces `BertForSequenceClassification` as sentence-transformers' CrossEncoder runs
    it: pair tokenisation with token types 0/1, truncation "longest_first" to `max_length`
    (in practice the sentence side, questions being short), the pooler (tanh dense on
    [CLS]) and the linear head. Pairs are sorted by length and batched so that a batch
    pads little; the last layer is computed for [CLS] alone.
    """

    def __init__(
        self, weights: dict[str, np.ndarray], config: dict, tokenizer_file: Path, max_length: int
    ) -> None:
        from tokenizers import Tokenizer

        bert = {k.removeprefix("bert."): v for k, v in weights.items() if k.startswith("bert.")}
        self._pooler_w = np.ascontiguousarray(bert.pop("pooler.dense.weight").T)
        self._pooler_b = bert.pop("pooler.dense.bias")
        self._head_w = np.ascontiguousarray(weights["classifier.weight"].T)
        self._head_b = weights["classifier.bias"]
        self._bert = BertLayers(bert, config)
        self.max_length = max_length
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.enable_truncation(max_length=max_length, strategy="longest_first")
        self.tokenizer.no_padding()

    def pieces(self, pairs: Sequence[tuple[str, str]]) -> list[int]:
        """Word pieces of each pair, special tokens included, after truncation."""
        return [len(e.ids) for e in self.tokenizer.encode_batch(list(pairs))]

    def logits(self, pairs: Sequence[tuple[str, str]], batch_size: int = 16) -> np.ndarray:
        """One logit per pair, float32, in the order given."""
        out = np.zeros(len(pairs), dtype=np.float32)
        if not pairs:
            return out
        encodings = self.tokenizer.encode_batch(list(pairs))
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        for begin in range(0, len(order), batch_size):
            chunk = order[begin : begin + batch_size]
            length = max(len(encodings[j].ids) for j in chunk)
            ids = np.zeros((len(chunk), length), dtype=np.int64)
            types = np.zeros((len(chunk), length), dtype=np.int64)
            mask = np.zeros((len(chunk), length), dtype=np.int64)
            for row, j in enumerate(chunk):
                e = encodings[j]
                ids[row, : len(e.ids)] = e.ids
                types[row, : len(e.ids)] = e.type_ids
                mask[row, : len(e.ids)] = 1
            cls = self._bert.hidden(ids, mask, types, cls_only=True)[:, 0]
            pooled = np.tanh(cls @ self._pooler_w + self._pooler_b)
            out[chunk] = (pooled @ self._head_w + self._head_b)[:, 0]
        return out
