"""Fine-tune all-MiniLM-L6-v2 into a cross-encoder that says whether a sentence answers a question.

Why this recipe: retrieval finds sentences on the topic of a question; it cannot tell the one
that answers it from its neighbours. SQuAD's paragraphs give exactly that contrast: the
sentence holding the answer span against the other sentences of the same paragraph, and
against every sentence of the paragraph of an SQuAD 2.0 question written to look answerable
but not answered there. Training is sentence-transformers' own CrossEncoderTrainer with
binary cross-entropy; the word embeddings stay frozen, so the shipped file holds only what
training changed and `rag.reader` takes the embeddings from the installed MiniLM package.

`make reader` runs `python -m reader.train` with the defaults, which rebuild the shipped
`rag/weights/reader.safetensors` and its sidecar `reader.json`. `--dev` trains on the
training titles less `reader.data.DEV_TITLES`, scores those, and writes elsewhere: it is for
choosing settings, never for the shipped file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from reader import data as d

BASE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
FROZEN = "bert.embeddings.word_embeddings.weight"
WEIGHTS = Path("rag/weights/reader.safetensors")


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=d.DEFAULT_DATA, help="the qadata folder")
    p.add_argument("--out", type=Path, default=WEIGHTS, help="weights file to write")
    p.add_argument("--epochs", type=float, default=1.0, help="passes over the pairs")
    p.add_argument("--max-steps", type=int, default=-1, help="stop after this many steps")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=5e-5, help="learning rate of the encoder")
    p.add_argument(
        "--head-lr", type=float, default=1e-3, help="learning rate of the pooler and classifier"
    )
    p.add_argument("--warmup", type=float, default=0.1, help="warm-up share of the steps")
    p.add_argument("--max-length", type=int, default=64, help="word pieces per pair")
    p.add_argument(
        "--negatives", type=int, default=2, help="hardest negatives kept per question; -1: all"
    )
    p.add_argument("--qnli", action="store_true", help="add QNLI dev pairs of training titles")
    p.add_argument("--dev", action="store_true", help="hold out DEV_TITLES too and score them")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--threads", type=int, default=2)
    return p.parse_args(argv)


def _seed(seed: int) -> None:
    import torch
    from transformers import set_seed

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    set_seed(seed)


def _batch_sampler_factory(lengths: list[int]):  # noqa: ANN202 - torch types stay local
    """A sentence-transformers batch sampler that puts pairs of like length together.

    Random batches pad every pair to the longest of the batch (about twice the mean length here);
    shuffling, then sorting within windows of 64 batches, then shuffling the batches keeps
    the order random while cutting the padding, and so the time, about in half.
    """
    import torch
    from sentence_transformers.base.sampler import DefaultBatchSampler

    class LengthGroupedBatchSampler(DefaultBatchSampler):
        def _batches(self) -> list[list[int]]:
            g = torch.Generator()
            g.manual_seed(self.seed + self.epoch)
            order = torch.randperm(len(lengths), generator=g).tolist()
            window = self.batch_size * 64
            batches = []
            for begin in range(0, len(order), window):
                chunk = sorted(order[begin : begin + window], key=lengths.__getitem__)
                batches += [
                    chunk[i : i + self.batch_size] for i in range(0, len(chunk), self.batch_size)
                ]
            if self.drop_last:
                batches = [b for b in batches if len(b) == self.batch_size]
            return [batches[i] for i in torch.randperm(len(batches), generator=g).tolist()]

        def __iter__(self) -> Iterator[list[int]]:
            yield from self._batches()

        def __len__(self) -> int:
            full, rest = divmod(len(lengths), self.batch_size)
            return full if self.drop_last else full + (rest > 0)

    def make(dataset, **kwargs):  # noqa: ANN001, ANN202
        return LengthGroupedBatchSampler(dataset, **kwargs)

    return make


def training_pairs(
    root: Path, *, dev: bool, qnli: bool, negatives: int | None
) -> tuple[list[d.Pair], list[d.Question]]:
    """The training pairs, and (with `dev`) the development questions to score."""
    held = d.HELD_OUT_TITLES + (d.DEV_TITLES if dev else ())
    kept, _ = d.split(d.squad_questions(root), held)
    train = d.pairs(kept, negatives)
    if qnli:
        extra, _ = d.split(d.qnli_pairs(root)[0], held)
        train += extra
    scored = [q for q in d.squad_questions(root) if q.title in d.DEV_TITLES] if dev else []
    return train, scored


def _auc(labels: list[int], scores: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save(model, out: Path, settings: dict) -> dict:  # noqa: ANN001 - a CrossEncoder
    """Write every parameter but the frozen word embeddings as fp16, and the sidecar JSON
    that `rag.reader` checks the file against."""
    import torch
    from safetensors.torch import save_file

    hf = model.model
    tensors = {
        name: p.detach().to(torch.float16).contiguous()
        for name, p in hf.named_parameters()
        if name != FROZEN
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out), metadata={"base_model": BASE_MODEL})
    config = hf.config
    frozen = hf.get_parameter(FROZEN).detach().numpy()
    sidecar = {
        "weights": out.name,
        "sha256": _sha256(out),
        "base_model": BASE_MODEL,
        "word_embeddings_sha256": hashlib.sha256(frozen.tobytes()).hexdigest(),
        "max_length": settings["max_length"],
        "hidden_size": config.hidden_size,
        "num_hidden_layers": config.num_hidden_layers,
        "num_attention_heads": config.num_attention_heads,
        "layer_norm_eps": config.layer_norm_eps,
        "training": settings,
    }
    out.with_suffix(".json").write_text(json.dumps(sidecar, indent=2) + "\n", encoding="utf-8")
    return sidecar


def main(argv: list[str] | None = None) -> None:
    args = _args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import tempfile

    import torch
    from datasets import Dataset
    from sentence_transformers import (
        CrossEncoder,
        CrossEncoderTrainer,
        CrossEncoderTrainingArguments,
    )
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

    from rag.embedding import resolve_model

    torch.set_num_threads(args.threads)
    _seed(args.seed)
    started = time.time()
    negatives = None if args.negatives < 0 else args.negatives
    train, scored = training_pairs(args.data, dev=args.dev, qnli=args.qnli, negatives=negatives)
    print(f"{len(train)} training pairs, {sum(p.label for p in train)} positive", flush=True)

    base = resolve_model(None).path
    model = CrossEncoder(str(base), num_labels=1, max_length=args.max_length, device="cpu")
    model.model.get_parameter(FROZEN).requires_grad_(False)
    lengths = [
        len(e.ids)
        for e in model.tokenizer.backend_tokenizer.encode_batch(
            [(p.question, p.sentence) for p in train]
        )
    ]
    lengths = [min(n, args.max_length) for n in lengths]
    dataset = Dataset.from_dict(
        {
            "question": [p.question for p in train],
            "sentence": [p.sentence for p in train],
            "label": [float(p.label) for p in train],
        }
    )
    with tempfile.TemporaryDirectory() as scratch:
        training_args = CrossEncoderTrainingArguments(
            output_dir=scratch,
            num_train_epochs=args.epochs,
            max_steps=args.max_steps,
            per_device_train_batch_size=args.batch_size,
            learning_rate=args.lr,
            # MiniLM's pooler is near zero (pre-activations ~0.06) and the new head is drawn
            # at std 0.02: at the encoder's rate Adam needs thousands of steps to grow them,
            # and until then almost no gradient reaches the encoder (a first run's loss
            # stayed at the label prior for 250 steps). They get a rate of their own.
            learning_rate_mapping={r"\.(pooler|classifier)\.": args.head_lr},
            warmup_steps=args.warmup,
            weight_decay=0.01,
            seed=args.seed,
            data_seed=args.seed,
            batch_sampler=_batch_sampler_factory(lengths),
            save_strategy="no",
            logging_steps=50,
            report_to="none",
            dataloader_num_workers=0,
            use_cpu=True,
            disable_tqdm=True,
        )
        trainer = CrossEncoderTrainer(
            model=model,
            args=training_args,
            train_dataset=dataset,
            loss=BinaryCrossEntropyLoss(model),
        )
        trainer.train()
    minutes = (time.time() - started) / 60
    print(f"trained in {minutes:.1f} min", flush=True)
    settings = {
        "data": "SQuAD 1.1 dev + SQuAD 2.0 dev unanswerable" + (" + QNLI dev" if args.qnli else ""),
        "held_out_titles": list(d.HELD_OUT_TITLES) + (list(d.DEV_TITLES) if args.dev else []),
        "negatives_per_question": "all" if negatives is None else negatives,
        "pairs": len(train),
        "positives": sum(p.label for p in train),
        "epochs": args.epochs,
        "max_steps": args.max_steps,
        "steps": trainer.state.global_step,
        "batch_size": args.batch_size,
        "learning_rate": args.lr,
        "head_learning_rate": args.head_lr,
        "warmup_ratio": args.warmup,
        "max_length": args.max_length,
        "seed": args.seed,
        "wall_minutes": round(minutes, 1),
    }
    if args.dev:
        pairs = d.pairs(scored)
        model.model.eval()
        scores = model.predict([(p.question, p.sentence) for p in pairs], batch_size=64)
        auc = _auc([p.label for p in pairs], np.asarray(scores))
        print(f"dev sentence AUC {auc:.4f} over {len(pairs)} pairs", flush=True)
        settings["dev_sentence_auc"] = round(auc, 4)
    sidecar = save(model, args.out, settings)
    print(json.dumps(sidecar, indent=2), flush=True)


if __name__ == "__main__":
    main()
