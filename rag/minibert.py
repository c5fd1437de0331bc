"""A NumPy forward pass for BERT sentence encoders (all-MiniLM-L6-v2 and its kin).

Why: importing sentence-transformers and torch takes 6-7 s on a small CPU, and a
question needs only the tokenizer and twelve small matrix products. This reads the
same safetensors weights and tokenizer.json and reproduces the model's mean-pooled,
normalised vectors (checked against sentence-transformers in the tests, cosine
> 0.9999). But: only BERT with absolute positions, mean pooling and normalisation;
anything else reports itself unsupported and the caller falls back to
sentence-transformers.
"""

from __future__ import annotations

import json
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


class NumpyBert:
    """Encode texts to unit vectors with NumPy alone (plus `tokenizers`)."""

    def __init__(self, folder: str | Path) -> None:
        from safetensors.numpy import load_file
        from scipy.special import erf
        from tokenizers import Tokenizer

        folder = Path(folder)
        config, self.max_tokens = _check(folder)
        self._erf = erf
        self._eps = float(config.get("layer_norm_eps", 1e-12))
        self._heads = int(config["num_attention_heads"])
        w = load_file(str(folder / WEIGHTS_FILE))
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in w else ""
        self._w = {k[len(prefix) :]: v.astype(np.float32) for k, v in w.items()}
        self._layers = int(config["num_hidden_layers"])
        # Pre-transpose the linear layers once: x @ W.T is what torch.nn.Linear computes.
        for i in range(self._layers):
            for name in (
                "attention.self.query",
                "attention.self.key",
                "attention.self.value",
                "attention.output.dense",
                "intermediate.dense",
                "output.dense",
            ):
                key = f"encoder.layer.{i}.{name}.weight"
                self._w[key] = np.ascontiguousarray(self._w[key].T)
        self.dim = int(config["hidden_size"])
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.max_tokens)
        self.tokenizer.no_padding()
        self._counter = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._counter.no_truncation()
        self._counter.no_padding()

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self._w[f"{name}.weight"] + self._w[f"{name}.bias"]

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w = self._w
        batch, length = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length][None]
            + w["embeddings.token_type_embeddings.weight"][0][None, None]
        )
        x = _layer_norm(
            x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self._eps
        )
        heads = self._heads
        size = self.dim // heads
        bias = np.where(mask[:, None, None, :] > 0, 0.0, np.finfo(np.float32).min).astype(
            np.float32
        )
        for i in range(self._layers):
            p = f"encoder.layer.{i}."

            def split(t: np.ndarray) -> np.ndarray:
                return t.reshape(batch, length, heads, size).transpose(0, 2, 1, 3)

            q = split(self._linear(x, p + "attention.self.query"))
            k = split(self._linear(x, p + "attention.self.key"))
            v = split(self._linear(x, p + "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(size)) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, self.dim)
            x = _layer_norm(
                self._linear(context, p + "attention.output.dense") + x,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                self._eps,
            )
            h = self._linear(x, p + "intermediate.dense")
            h = 0.5 * h * (1.0 + self._erf(h / np.float32(np.sqrt(2.0))))
            x = _layer_norm(
                self._linear(h, p + "output.dense") + x,
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
                self._eps,
            )
        m = mask[..., None].astype(np.float32)
        pooled = (x * m).sum(1) / np.maximum(m.sum(1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Unit vectors, one row per text, float32."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        # Sort by length so that a batch pads little.
        encodings = self.tokenizer.encode_batch(list(texts))
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        for begin in range(0, len(order), batch_size):
            chunk = order[begin : begin + batch_size]
            length = max(len(encodings[j].ids) for j in chunk)
            ids = np.zeros((len(chunk), length), dtype=np.int64)
            mask = np.zeros((len(chunk), length), dtype=np.int64)
            for row, j in enumerate(chunk):
                e = encodings[j].ids
                ids[row, : len(e)] = e
                mask[row, : len(e)] = 1
            out[chunk] = self._forward(ids, mask)
        return out

    def count_tokens(self, text: str) -> int:
        """Word pieces the model sees, special tokens included, before truncation."""
        return len(self._counter.encode(text).ids)
