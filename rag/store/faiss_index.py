"""Which FAISS index a segment gets for its number of vectors; building and searching it.

Exact inner product below HNSW_FROM vectors (rebuilt from the vectors on load, in a
blink), HNSW up to IVF_FROM, and above that IVF with PQ_BYTES-byte product-quantised
codes, whose candidates are re-scored exactly from the vectors on disk. All on
unit rows, so inner product is cosine. But: knows nothing of files or of segments.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, cast

import numpy as np

from rag.errors import IndexCorruptError
from rag.store.files import StoredRows

if TYPE_CHECKING:  # faiss itself is imported where an index is built
    import faiss

# Exact search while it is fast enough, approximate after; bench/scale.py measured the
# figures behind these bounds (exact p50 15 ms at 100k vectors, 150 ms at 1M).
HNSW_FROM = 50_000
IVF_FROM = 500_000
PQ_BYTES = 48  # code size of a vector in the largest segments (raw: 1,536 bytes)
# A PQ search proposes RERANK × k candidates (at least 200), re-scored exactly: at 1M
# vectors recall@10 goes from 0.81 (4 × k) to 0.98 for 0.1 ms more (bench/scale.py).
RERANK = 20
_SEED = 1234
FaissKind = Literal["flat-ip", "hnsw32", "ivf-pq48"]


def index_type(n: int) -> FaissKind:
    """The FAISS index kind for n vectors: "flat-ip", "hnsw32" or "ivf-pq48"."""
    if n < HNSW_FROM:
        return "flat-ip"
    return "hnsw32" if n < IVF_FROM else "ivf-pq48"


def build_faiss(vectors: np.ndarray, kind: FaissKind) -> faiss.Index:
    """A FAISS inner-product index of `kind` holding `vectors` (unit rows)."""
    import faiss

    dim = vectors.shape[1]
    index: faiss.Index
    if kind == "flat-ip":
        index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw32":
        hnsw = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = 80
        index = hnsw
    elif kind == "ivf-pq48":
        # 48 bytes a vector; searches re-score their candidates exactly (search_vectors).
        n = len(vectors)
        nlist = int(min(4096, max(1, min(4 * np.sqrt(n), n // 39))))
        nbits = 8 if n >= 256 * 39 else 4  # k-means needs points enough for its centroids
        ivf = faiss.IndexIVFPQ(
            faiss.IndexFlatIP(dim), dim, nlist, PQ_BYTES, nbits, faiss.METRIC_INNER_PRODUCT
        )
        rng = np.random.default_rng(_SEED)
        sample = vectors[np.sort(rng.choice(n, min(n, 200_000), replace=False))]
        ivf.train(np.ascontiguousarray(sample, dtype=np.float32))
        index = ivf
    else:
        raise IndexCorruptError(f"unknown FAISS index type {kind!r}")
    index.add(vectors)
    tune(index, kind)
    return index


def tune(index: faiss.Index, kind: FaissKind) -> None:
    """Search-time parameters; measured in bench/scale.py (recall@10 ≥ 0.98)."""
    if kind == "hnsw32":
        cast("faiss.IndexHNSW", index).hnsw.efSearch = 64
    elif kind == "ivf-pq48":
        cast("faiss.IndexIVF", index).nprobe = 48


def search_vectors(
    built: faiss.Index,
    kind: FaissKind,
    vectors: np.ndarray | StoredRows,
    queries: np.ndarray,
    k: int,
) -> np.ndarray:
    """Ids of the k nearest rows per query (-1 where fewer), best first.

    A compressed (PQ) index only proposes candidates, RERANK times k of them; their
    exact cosines, from their rows read off disk, decide. Others answer directly.
    """
    k = min(k, built.ntotal)
    if kind != "ivf-pq48":
        return built.search(queries, k)[1]
    _, proposed = built.search(queries, min(built.ntotal, max(200, RERANK * k)))
    out = np.full((len(queries), k), -1, dtype=np.int64)
    every = np.unique(proposed[proposed >= 0])  # read once for all the query rows
    rows = np.asarray(vectors[every], dtype=np.float32)
    for row, ids in enumerate(proposed):
        ids = np.sort(ids[ids >= 0])
        exact = rows[np.searchsorted(every, ids)] @ queries[row]
        best = np.argsort(-exact, kind="stable")[:k]
        out[row, : len(best)] = ids[best]
    return out
