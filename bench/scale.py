"""FAISS at scale: exact search against the index type the store picks for each size.

    python bench/scale.py [--sizes 10000 100000 1000000] [--append]

Synthetic unit vectors of the model's dimension (384), drawn around 2,000 random
centres so that they cluster as sentence embeddings do; queries are drawn the same
way. For each size it builds exact inner-product search and the index `rag.store`
picks (exact below 50k vectors, HNSW32 with efSearch 64 up to 500k, IVF with 48-byte
PQ codes and nprobe 48 above, whose candidates are re-scored exactly from the vectors
read off disk, as the store does), and prints search p50 for one query
(re-scoring included), recall@10 against exact search, build time and the index's
size in memory. With --append (as `make bench` runs it) the table goes into
bench/RESULTS.md in place of its earlier version; the file's other parts stay.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np

DIM = 384
QUERIES = 200
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.timing import write_results  # noqa: E402
from rag.store.faiss_index import build_faiss, index_type, search_vectors  # noqa: E402
from rag.store.files import StoredRows  # noqa: E402


def clustered(n: int, rng: np.random.Generator, centres: np.ndarray) -> np.ndarray:
    out = np.empty((n, DIM), dtype=np.float32)
    step = 100_000
    for a in range(0, n, step):
        b = min(n, a + step)
        which = rng.integers(0, len(centres), b - a)
        x = centres[which] + rng.normal(0, 0.08, (b - a, DIM)).astype(np.float32)
        out[a:b] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def timed_search(
    search: Callable[[np.ndarray], np.ndarray], queries: np.ndarray
) -> tuple[float, np.ndarray]:
    times, found = [], []
    for q in queries:
        t = time.perf_counter()
        ids = search(q[None])
        times.append((time.perf_counter() - t) * 1000)
        found.append(ids[0])
    return statistics.median(times), np.array(found)


def run(n: int, rng: np.random.Generator) -> dict:
    centres = rng.normal(0, 1, (2000, DIM)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    data = clustered(n, rng, centres)
    queries = clustered(QUERIES, rng, centres)
    t = time.perf_counter()
    exact = faiss.IndexFlatIP(DIM)
    exact.add(data)
    exact_build = time.perf_counter() - t
    exact_p50, truth = timed_search(lambda q: exact.search(q, 10)[1], queries)
    # The index the store itself would build for n vectors (rag.store.faiss_index.index_type).
    kind = index_type(n)
    t = time.perf_counter()
    approx = build_faiss(data, kind)
    build = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as tmp:  # the store reads vectors' rows off disk
        np.save(Path(tmp) / "v.npy", data)
        exact_mb = data.nbytes / 2**20
        del data  # the exact index keeps its own copy
        stored = StoredRows(Path(tmp) / "v.npy")
        approx_p50, got = timed_search(
            lambda q: search_vectors(approx, kind, stored, q, 10), queries
        )
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth, got, strict=True)])
    return {
        "n": n,
        "exact_p50_ms": exact_p50,
        "exact_build_s": exact_build,
        "exact_mb": exact_mb,
        "type": kind,
        "p50_ms": approx_p50,
        "recall10": recall,
        "build_s": build,
        "mb": len(faiss.serialize_index(approx)) / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument(
        "--append",
        action="store_true",
        help="write into bench/RESULTS.md, replacing its earlier table",
    )
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    lines = [
        "",
        "## FAISS at scale (synthetic clustered vectors, `python bench/scale.py`)",
        "",
        f"{QUERIES} single-vector queries each; recall@10 against exact search. Threads: "
        f"{faiss.omp_get_max_threads()}.",
        "",
        "| vectors | exact p50 | exact size | type the store picks | p50 | recall@10 | build | size |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for n in args.sizes:
        r = run(n, rng)
        line = (
            f"| {n:,} | {r['exact_p50_ms']:.2f} ms | {r['exact_mb']:.0f} MB | {r['type']} | "
            f"{r['p50_ms']:.2f} ms | {r['recall10']:.3f} | {r['build_s']:.1f} s | {r['mb']:.0f} MB |"
        )
        lines.append(line)
        print(line, flush=True)
    lines.append("")
    if args.append:
        write_results("\n".join(lines))
    else:
        print("\n".join(lines[:7]))


if __name__ == "__main__":
    main()
