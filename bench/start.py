"""Fast starts: how long a new process, or a first upload, waits for its first answer.

    python bench/start.py [--runs 5] [--texts 2000] [--starts-only] [--append]

1. Cold: a new process builds the seeds' index in an empty folder and answers one
   question, as `rag ask "…" --corpus seeds --index-dir <empty>` does (it calls the
   CLI's `main`); median and worst of --runs, the time to `import rag.cli` inside it,
   and which heavy modules it imported.
2. Warm: a new process opens the saved index and answers.
3. First upload: a new process opens the saved index and at once (the encoder may still
   be loading) uploads an article with `Assistant.add_article`, then asks about it; the
   time from the upload to the answer quoting the new article, median of --runs
   processes (each with its own copy of the corpus and index).
4. Encoders: the same --texts sentences (from the BBC stories when ../shared holds them,
   else the seeds' sentences and passages over again) embedded by the NumPy pass (BLAS
   as installed, and on one thread) and by sentence-transformers, each in its own
   process, alternated, three of each, model loaded and warmed first; texts per second
   (median), BLAS/torch threads, and how closely the vectors agree (max |Δ| per
   coordinate, least cosine).

1-3 run with BLAS as installed (OpenBLAS starts a thread per core) and with
OPENBLAS_NUM_THREADS=1, alternated: on a machine whose cores are busy with other work, a
product split over two threads waits for whichever is descheduled, which costs small
products (a question, one article) far more than their arithmetic. Figures are
wall-clock seconds on this machine as it is (other jobs may run on it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bench.timing import write_results  # noqa: E402

SEEDS = ROOT / "seeds"
BBC = ROOT.parent / "shared" / "corpora" / "bbc"
QUESTION = "What did Rutte say about China?"
HEAVY = ("torch", "sentence_transformers", "transformers", "sklearn", "gradio")
ENCODER_RUNS = 3

UPLOAD_NAME = "harbour-ferry.txt"
UPLOAD = """Harbour council approves a winter ferry to Nordby

The harbour council approved a winter ferry route to Nordby on Tuesday.
"The island has waited eleven years for a boat that runs in January," said Mira Tolvanen, the council's chair.
The ferry will sail twice a day from December to March, the council said.
Tolvanen said the route would cost the town 2.4 million euros a year.
Fishermen on the island welcomed the decision but asked for a larger pier.
"""
UPLOAD_QUESTION = "What did Tolvanen say about the ferry?"

_HEAVY_CODE = f"[m for m in {HEAVY!r} if m in sys.modules]"

COLD = f"""
import contextlib, io, json, sys, time
t0 = time.perf_counter()
import rag.cli
t1 = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()) as out:
    rc = rag.cli.main(["--index-dir", sys.argv[1], "ask", {QUESTION!r}, "--corpus", sys.argv[2]])
assert rc == 0 and "Rutte" in out.getvalue(), out.getvalue()
print(json.dumps({{"import_s": t1 - t0, "total_s": time.perf_counter() - t0,
                  "heavy": {_HEAVY_CODE}}}))
"""

FIRST_UPLOAD = f"""
import json, sys, time
from rag import Assistant
assistant = Assistant(sys.argv[1], sys.argv[2])
t = time.perf_counter()
report = assistant.add_article({UPLOAD_NAME!r}, {UPLOAD!r}.encode("utf-8"))
answer = assistant.ask({UPLOAD_QUESTION!r})
seconds = time.perf_counter() - t
assert report.embedded_sentences > 0 and answer.quotes, answer.markdown
assert answer.quotes[0].source == {UPLOAD_NAME!r}, answer.markdown
print(json.dumps({{"upload_answer_s": seconds, "heavy": {_HEAVY_CODE}}}))
"""

ENCODE = """
import json, sys, time
import numpy as np
from rag.embedding import Embedder
backend, texts_file, out_file = sys.argv[1:4]
texts = json.loads(open(texts_file, encoding="utf-8").read())
embedder = Embedder()
if backend == "numpy":
    assert embedder.backend == "numpy"
    encode = embedder.encode
    try:
        from threadpoolctl import threadpool_info
        threads = {i["prefix"]: i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}
    except ImportError:
        threads = {}
else:
    encode = embedder.encode_reference
encode(texts[:64])  # load and warm: loading is not throughput
if backend != "numpy":
    import torch
    threads = {"torch": torch.get_num_threads()}
t = time.perf_counter()
vectors = encode(texts)
seconds = time.perf_counter() - t
np.save(out_file, vectors)
print(json.dumps({"seconds": seconds, "threads": threads}))
"""


# BLAS as installed (OpenBLAS: a thread per core) and on one thread, alternated run by run.
THREADS = {"default": {}, "one": {"OPENBLAS_NUM_THREADS": "1"}}


def child(code: str, *args: str, env: dict[str, str] | None = None) -> tuple[float, dict]:
    """Run `python -c code args…` in a new process: (wall seconds, its last stdout line)."""
    full = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    t = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=full
    )
    seconds = time.perf_counter() - t
    if done.returncode != 0:
        raise SystemExit(f"child process failed:\n{done.stderr[-3000:]}")
    return seconds, json.loads(done.stdout.strip().splitlines()[-1])


def starts(tmp: Path, runs: int) -> dict[str, dict]:
    """Cold, warm and first-upload seconds under each THREADS setting, and the heavy
    modules any of those processes imported."""
    out: dict[str, dict] = {
        name: {"cold": [], "cold_import": [], "warm": [], "upload": []} for name in THREADS
    }
    heavy: set[str] = set()
    for i in range(runs):
        for name, env in THREADS.items():
            seconds, got = child(COLD, str(tmp / f"cold-{name}-{i}"), str(SEEDS), env=env)
            out[name]["cold"].append(seconds)
            out[name]["cold_import"].append(got["import_s"])
            heavy.update(got["heavy"])
    index = tmp / "cold-default-0"
    for _ in range(runs):
        for name, env in THREADS.items():
            seconds, got = child(COLD, str(index), str(SEEDS), env=env)
            out[name]["warm"].append(seconds)
            heavy.update(got["heavy"])
    for i in range(runs):
        for name, env in THREADS.items():
            corpus, copy = tmp / f"upload-corpus-{name}-{i}", tmp / f"upload-index-{name}-{i}"
            shutil.copytree(SEEDS, corpus)
            shutil.copytree(index, copy)
            _, got = child(FIRST_UPLOAD, str(corpus), str(copy), env=env)
            out[name]["upload"].append(got["upload_answer_s"])
            heavy.update(got["heavy"])
    return {**out, "heavy": {"modules": sorted(heavy)}}


def sample_texts(n: int) -> tuple[list[str], str]:
    """n sentences to embed, folded as the index folds them, and where they came from."""
    from rag.corpus import scan
    from rag.text import fold, split_sentences

    texts: list[str] = []
    if BBC.is_dir():
        files = sorted(BBC.rglob("*.txt"))
        for path in files[:: max(1, len(files) // 400)]:
            text = path.read_text(encoding="utf-8", errors="replace")
            texts += [fold(text[s.start : s.end]) for s in split_sentences(text)]
        if len(texts) >= n:
            return texts[:n], "BBC stories' sentences"
    from rag import store
    from rag.config import Settings
    from rag.embedding import Embedder

    settings, embedder = Settings(), Embedder()
    records = [store.analyse(d, settings.index, embedder) for d in scan(SEEDS, 1 << 30).documents]
    seeds = [fold(r.sentence_text(i)) for r in records for i in range(len(r.sentences))]
    seeds += [fold(r.passage_text(p)) for r in records for p in range(len(r.passages))]
    return [seeds[i % len(seeds)] for i in range(n)], "the seeds' sentences and passages, repeated"


def encoders(tmp: Path, n: int) -> dict:
    texts, origin = sample_texts(n)
    texts_file = tmp / "texts.json"
    texts_file.write_text(json.dumps(texts), encoding="utf-8")
    runs = {"numpy": ("numpy", {}), "numpy-one": ("numpy", THREADS["one"]), "st": ("st", {})}
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    threads: dict[str, dict] = {}
    for _ in range(ENCODER_RUNS):  # alternated, so that all meet the same load
        for name, (backend, env) in runs.items():
            _, out = child(ENCODE, backend, str(texts_file), str(tmp / f"{name}.npy"), env=env)
            seconds[name].append(out["seconds"])
            threads[name] = out["threads"]
    fast, reference = np.load(tmp / "numpy.npy"), np.load(tmp / "st.npy")
    assert np.abs(np.load(tmp / "numpy-one.npy") - fast).max() <= 1e-6
    return {
        "texts": len(texts),
        "origin": origin,
        "numpy_per_s": len(texts) / statistics.median(seconds["numpy"]),
        "numpy_one_per_s": len(texts) / statistics.median(seconds["numpy-one"]),
        "st_per_s": len(texts) / statistics.median(seconds["st"]),
        "seconds": seconds,
        "threads": threads,
        "max_delta": float(np.abs(fast - reference).max()),
        "min_cosine": float((fast * reference).sum(axis=1).min()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--texts", type=int, default=2000, help="texts for the encoder figures")
    parser.add_argument(
        "--starts-only",
        action="store_true",
        help="only the start figures (1-3), e.g. to time an older checkout the same way",
    )
    parser.add_argument(
        "--append", action="store_true", help="write into bench/RESULTS.md, replacing its table"
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    try:
        s = starts(tmp, args.runs)
        e = None if args.starts_only else encoders(tmp, args.texts)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    d, one = s["default"], s["one"]

    def fig(values: list[float]) -> str:
        return f"{statistics.median(values):.2f} s (worst {max(values):.2f} s)"

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    lines = [
        f"## Fast starts (`python bench/start.py --runs {args.runs} --texts {args.texts}`)",
        "",
        f"{platform.machine()}, {cores} cores shared with other jobs (load average {load} at "
        f"the end), Python {platform.python_version()}. Medians of {args.runs} new processes, "
        "wall time; the two BLAS settings alternated run by run.",
        "",
        "| figure | BLAS as installed | `OPENBLAS_NUM_THREADS=1` | target |",
        "|---|---|---|---|",
        "| cold: new process, seeds indexed from an empty folder, first answer (`rag ask`) "
        f"| {fig(d['cold'])} | {fig(one['cold'])} | ≤ 8 s |",
        f"| of which `import rag` | {statistics.median(d['cold_import']):.2f} s "
        f"| {statistics.median(one['cold_import']):.2f} s | |",
        f"| warm: new process, saved index, first answer | {fig(d['warm'])} "
        f"| {fig(one['warm'])} | |",
        "| first upload in a running process: `add_article` to an answer quoting it "
        f"| {fig(d['upload'])} | {fig(one['upload'])} | ≤ 1 s |",
        f"| heavy modules any of them imported ({', '.join(HEAVY)}) "
        f"| {', '.join(s['heavy']['modules']) or 'none'} | | none |",
    ]
    if e is not None:
        blas = ", ".join(f"{k} {v}" for k, v in e["threads"]["numpy"].items())
        lines += [
            "",
            f"Encoders on the same {e['texts']} texts ({e['origin']}), each in its own "
            f"process, model loaded and warmed, median of {ENCODER_RUNS}, alternated:",
            "",
            "| figure | value |",
            "|---|---|",
            f"| NumPy pass (`Embedder.encode`), BLAS threads: {blas} "
            f"| {e['numpy_per_s']:.0f} texts/s |",
            f"| NumPy pass, `OPENBLAS_NUM_THREADS=1` | {e['numpy_one_per_s']:.0f} texts/s |",
            f"| sentence-transformers (`encode_reference`), torch threads: "
            f"{e['threads']['st'].get('torch')} | {e['st_per_s']:.0f} texts/s |",
            f"| agreement: max abs difference per coordinate | {e['max_delta']:.1e} |",
            f"| agreement: least cosine | {e['min_cosine']:.7f} |",
        ]
    print("\n".join(lines))
    raw = {name: s[name] for name in THREADS}
    if e is not None:
        raw["encoders"] = e["seconds"]
    print(json.dumps(raw))
    if args.append:
        write_results("\n".join(lines))


if __name__ == "__main__":
    main()
