"""The package as `pip install .` builds it: every module of the engine, and the reader's weights."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_the_built_wheel_holds_every_module_and_the_weights(tmp_path):
    pytest.importorskip("setuptools", reason="building the wheel needs setuptools in this env")
    # A clean copy: a build/ folder left in the checkout would lend the wheel its files.
    source = tmp_path / "source"
    shutil.copytree(ROOT / "rag", source / "rag", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    out = tmp_path / "wheel"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["-w", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = out.glob("*.whl")
    inside = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "rag").rglob("*.py")}
    assert modules, "no engine modules found"
    assert not modules - inside, f"left out of the wheel: {sorted(modules - inside)}"
    weights = {"rag/weights/reader.safetensors", "rag/weights/reader.json"}
    assert not weights - inside, f"left out of the wheel: {sorted(weights - inside)}"
