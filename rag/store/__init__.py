"""The saved index: articles in segments, each with its vectors in FAISS and its term counts.

Layout of the index folder:

    CURRENT              the name of the live generation, replaced atomically
    gen-<id>.json        a generation: format, model, settings, the corpus folder it
                         indexes, and its segments in order
    seg-<id>/            a segment, never changed once written: segment.json (checksums),
                         its articles as arrays and one UTF-8 text (`records`), sentence
                         and passage vectors (.npy), term counts (.npz) and, when
                         approximate, the FAISS indexes (.faiss)
    verified.json        the hashes already checked, by file and stat (so that gigabytes
                         of vectors are not hashed again on every start)
    .lock                held while a process opens, builds or updates the index
    uploads/             articles uploaded through `Assistant.add_article`, indexed with
                         the corpus as `uploads/<name>` (the store never removes them)

A change writes one new segment (the new and changed articles, plus the unchanged
articles of any segment that lost one, whose vectors are reused) and a new generation
that lists it after the segments left as they were; the previous generation's files
stay until CURRENT names the new one, so a crash at any moment leaves a sound index
live. Adding an article to a large index therefore embeds and writes that article
alone.

Every file is checked against its size and SHA-256 on load (the hash once, then again
whenever the file's stat changes): a garbled, truncated or mismatched index is reported
and rebuilt, and an unchanged article is never re-embedded. Vectors stay on disk and
only the rows of the candidates a question re-scores are read; texts are memory-mapped;
sentences are rows of arrays, not objects: a million passages open in seconds.

The modules, in the order data flows through them:

    pipeline.py       articles → sentences, speakers, passages → vectors → a live segment
    records.py        DocRecord, and Records: a segment's articles kept as arrays
    segment.py        Segment: articles indexed together, in memory
    faiss_index.py    the FAISS type for a number of vectors; building and searching it
    segment_files.py  a segment on disk: its files, checksums, checked loading
    generations.py    generations, CURRENT, what a saved index was built with; the lock
    files.py          fsynced writes
    index.py          Index: the live segments end to end, what retrieval reads
"""

from rag.store.generations import CURRENT, live_generation, load
from rag.store.index import Index
from rag.store.pipeline import SPLITTER, add, analyse, open_live, sync, write
from rag.store.records import DocRecord
from rag.store.segment import Segment
from rag.store.segment_files import FORMAT_VERSION

__all__ = [
    "CURRENT",
    "FORMAT_VERSION",
    "SPLITTER",
    "DocRecord",
    "Index",
    "Segment",
    "add",
    "analyse",
    "live_generation",
    "load",
    "open_live",
    "sync",
    "write",
]
