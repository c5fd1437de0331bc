"""FAISS at scale: exact search against the approximate index types a large corpus would use.

    python bench/scale.py [--sizes 10000 100000 1000000]

Synthetic unit vectors of the model's dimension (384), drawn around 2,000 random
centres so that they cluster as sentence embeddings do; queries are drawn the same
way. For each size it builds exact inner-product search (what the store uses today)
and an approximate index, and prints search p50 for one query, recall@10 against exact
search, build time and the index's size in memory. Appends a section to
bench/RESULTS.md when run by `make bench`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import faiss
import numpy as np

DIM = 384
QUERIES = 200
ROOT = Path(__file__).resolve().parent.parent


def clustered(n: int, rng: np.random.Generator, centres: np.ndarray) -> np.ndarray:
    out = np.empty((n, DIM), dtype=np.float32)
    step = 100_000
    for a in range(0, n, step):
        b = min(n, a + step)
        which = rng.integers(0, len(centres), b - a)
        x = centres[which] + rng.normal(0, 0.08, (b - a, DIM)).astype(np.float32)
        out[a:b] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def approximate(n: int) -> tuple[str, faiss.Index, dict]:
    """The approximate index for n vectors: HNSW while it builds fast, IVF with 8-bit codes after."""
    if n <= 200_000:
        index = faiss.IndexHNSWFlat(DIM, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        return "HNSW32 (flat vectors)", index, {"efSearch": 64}
    nlist = 4096
    quantizer = faiss.IndexFlatIP(DIM)
    index = faiss.IndexIVFScalarQuantizer(
        quantizer, DIM, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    return f"IVF{nlist},SQ8", index, {"nprobe": 48}


def timed_search(index: faiss.Index, queries: np.ndarray, k: int = 10) -> tuple[float, np.ndarray]:
    times, found = [], []
    for q in queries:
        t = time.perf_counter()
        _, ids = index.search(q[None], k)
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
    exact_p50, truth = timed_search(exact, queries)
    name, approx, params = approximate(n)
    t = time.perf_counter()
    if not approx.is_trained:
        sample = data[rng.choice(n, min(n, 200_000), replace=False)]
        approx.train(sample)
    approx.add(data)
    build = time.perf_counter() - t
    for key, value in params.items():
        if key == "efSearch":
            approx.hnsw.efSearch = value
        else:
            approx.nprobe = value
    approx_p50, got = timed_search(approx, queries)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth, got, strict=True)])
    return {
        "n": n,
        "exact_p50_ms": exact_p50,
        "exact_build_s": exact_build,
        "exact_mb": data.nbytes / 2**20,
        "type": f"{name} {', '.join(f'{k}={v}' for k, v in params.items())}",
        "p50_ms": approx_p50,
        "recall10": recall,
        "build_s": build,
        "mb": len(faiss.serialize_index(approx)) / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument(
        "--append", action="store_true", help="append the table to bench/RESULTS.md"
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
        "| vectors | exact p50 | exact size | approximate type | p50 | recall@10 | build | size |",
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
        with (ROOT / "bench" / "RESULTS.md").open("a", encoding="utf-8") as fh:
            fh.write("\n".join(lines))
    else:
        print("\n".join(lines[:7]))


if __name__ == "__main__":
    sys.exit(main())
