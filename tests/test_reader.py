"""The reading model: NumPy scores match the torch CrossEncoder, and bad files are refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from rag.errors import ModelError
from rag.reader import DEFAULT_WEIGHTS, Reader

ROOT = Path(__file__).resolve().parent.parent
QADATA = ROOT.parent / "shared" / "qadata"

QUESTION = "Who founded the harbour town of Velmora?"
ANSWERING = "Velmora was founded in 1791 by the shipwright Anouk Terhaal, who built its first dock."
OTHERS = [
    "Velmora lies on the northern shore of Lake Ostrava, two hours from the capital.",
    "The town's football club, FC Velmora, was promoted to the second division last spring.",
    "Mayor Piet Donder said the new ferry terminal would open in March.",
]


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader.load()


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / DEFAULT_WEIGHTS.name
    shutil.copy(DEFAULT_WEIGHTS, target)
    shutil.copy(DEFAULT_WEIGHTS.with_suffix(".json"), target.with_suffix(".json"))
    return target


def _held_out_pairs(count: int) -> list[tuple[str, str]]:
    from reader.data import HELD_OUT_TITLES, pairs, split, squad_questions

    if not (QADATA / "squad1").is_dir():
        pytest.skip(f"no SQuAD data at {QADATA}")
    _, held = split(squad_questions(QADATA), HELD_OUT_TITLES)
    rows = pairs(held)
    rng = np.random.default_rng(0)
    positives = [p for p in rows if p.label == 1]
    negatives = [p for p in rows if p.label == 0]
    chosen = [positives[i] for i in rng.choice(len(positives), count // 2, replace=False)]
    chosen += [negatives[i] for i in rng.choice(len(negatives), count - count // 2, replace=False)]
    return [(p.question, p.sentence) for p in chosen]


def test_numpy_matches_the_torch_cross_encoder_on_held_out_pairs(reader: Reader) -> None:
    from safetensors.torch import load_file
    from sentence_transformers import CrossEncoder

    from rag.embedding import resolve_model

    pairs = _held_out_pairs(48)
    pairs.append((QUESTION, "word " * 200))  # truncated the same way on both sides
    torch_model = CrossEncoder(
        str(resolve_model(None).path), num_labels=1, max_length=reader.max_length, device="cpu"
    )
    shipped = {k: v.float() for k, v in load_file(str(DEFAULT_WEIGHTS)).items()}
    missing, unexpected = torch_model.model.load_state_dict(shipped, strict=False)
    assert missing == ["bert.embeddings.word_embeddings.weight"] and not unexpected
    torch_model.model.eval()
    expected = torch_model.predict(pairs, batch_size=16)
    got = np.array([reader.score(q, [s])[0] for q, s in pairs])
    assert np.abs(got - expected).max() <= 1e-3, np.abs(got - expected).max()


def test_batched_scores_equal_one_at_a_time(reader: Reader) -> None:
    sentences = [ANSWERING, *OTHERS, "Short."]
    together = reader.score(QUESTION, sentences)
    fresh = Reader.load()  # its own cache: each pair is read alone, not looked up
    alone = np.array([fresh.score(QUESTION, [s])[0] for s in sentences])
    assert np.allclose(together, alone, atol=1e-5)


def test_scores_are_probabilities_and_the_answer_wins(reader: Reader) -> None:
    scores = reader.score(QUESTION, [*OTHERS, ANSWERING])
    assert scores.dtype == np.float32 and scores.shape == (4,)
    assert ((scores >= 0) & (scores <= 1)).all()
    assert scores[-1] > scores[:-1].max()
    assert reader.score(QUESTION, []).shape == (0,)


def test_identity_is_the_file_hash(reader: Reader) -> None:
    import hashlib

    assert reader.sha256 == hashlib.sha256(DEFAULT_WEIGHTS.read_bytes()).hexdigest()


def test_a_damaged_file_is_refused(tmp_path: Path) -> None:
    target = _copy(tmp_path)
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"reader\.safetensors.*make reader"):
        Reader.load(target)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    target = _copy(tmp_path)
    target.unlink()
    with pytest.raises(ModelError, match=r"reader\.safetensors is missing.*make reader"):
        Reader.load(target)


def test_a_missing_record_is_refused(tmp_path: Path) -> None:
    target = _copy(tmp_path)
    target.with_suffix(".json").unlink()
    with pytest.raises(ModelError, match=r"reader\.json is missing.*make reader"):
        Reader.load(target)


def test_a_repeated_pair_is_not_read_again(reader: Reader) -> None:
    first = reader.logits(QUESTION, [ANSWERING, *OTHERS])
    # New sentences beside known ones: the known keep their scores, the new are read.
    again = reader.logits(QUESTION, [OTHERS[0], "Velmora has two bakeries.", ANSWERING])
    assert again[0] == first[1] and again[2] == first[0]
    assert np.isclose(again[1], reader.logits(QUESTION, ["Velmora has two bakeries."])[0])


def test_the_assistant_reads_with_it_when_told_and_refuses_a_damaged_file(
    tmp_path: Path, embedder, reader: Reader, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag import Assistant, Settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "velmora.txt").write_text(
        "Velmora at 230\n\n" + " ".join([*OTHERS, ANSWERING]) + "\n", encoding="utf-8"
    )
    off = Assistant(corpus, tmp_path / "index", embedder=embedder)
    on = Assistant(corpus, tmp_path / "index", Settings(reader=True), embedder=embedder)
    assert on.reader.sha256 == reader.sha256  # the shipped model, loaded at construction
    answer, plain = on.ask(QUESTION), off.ask(QUESTION)
    assert answer.quotes and answer.quotes[0].text == ANSWERING
    # Its probability is part of the evidence: the confidence moves with it.
    assert answer.confidence != plain.confidence
    # A damaged file fails when the Assistant is made, not in the middle of a question.
    damaged = _copy(tmp_path)
    damaged.write_bytes(damaged.read_bytes()[:-8] + b"\0" * 8)
    monkeypatch.setattr("rag.reader.DEFAULT_WEIGHTS", damaged)
    with pytest.raises(ModelError, match="damaged"):
        Assistant(corpus, tmp_path / "index", Settings(reader=True), embedder=embedder)
    Assistant(corpus, tmp_path / "index", embedder=embedder)  # off: the file is not read
