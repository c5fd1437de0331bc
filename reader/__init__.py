"""Training the reading model (a cross-encoder) shipped as `rag/weights/reader.safetensors`.

Why a separate top-level folder: training needs torch, sentence-transformers, `datasets`
and `accelerate`, and the engine must not. `rag/reader.py` runs the result with NumPy.
"""
