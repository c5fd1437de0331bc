import json
import subprocess
import sys


def rag(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rag.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_help_lists_the_commands():
    out = rag("--help")
    assert out.returncode == 0
    for word in ("index", "ask", "people"):
        assert word in out.stdout


def test_ask_json_gives_verbatim_quotes(seeds_index):
    corpus, index = seeds_index
    out = rag(
        "--index-dir",
        str(index),
        "ask",
        "What did Rutte say about China?",
        "--corpus",
        str(corpus),
        "--json",
        "-k",
        "2",
    )
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert 1 <= len(answer["quotes"]) <= 2
    q = answer["quotes"][0]
    assert (corpus / q["source"]).read_text(encoding="utf-8")[q["start"] : q["end"]] == q["text"]


def test_errors_are_one_line_without_traceback(tmp_path):
    out = rag("--index-dir", str(tmp_path / "i"), "ask", "   ", "--corpus", str(tmp_path))
    assert out.returncode == 2
    assert out.stderr.startswith("rag: error:") and "Traceback" not in out.stderr
    out = rag("--index-dir", str(tmp_path / "i"), "index", str(tmp_path / "missing"))
    assert out.returncode == 2 and "does not exist" in out.stderr


def test_people_json_lists_each_person_with_counts(seeds_index):
    corpus, index = seeds_index
    out = rag("--index-dir", str(index), "people", "--corpus", str(corpus), "--json")
    assert out.returncode == 0, out.stderr
    people = json.loads(out.stdout)
    assert people and {"name", "forms", "roles", "sentences", "articles"} <= set(people[0])
    counts = [p["sentences"] for p in people]
    assert counts == sorted(counts, reverse=True) and counts[0] > 0
    plain = rag("--index-dir", str(index), "people", "--corpus", str(corpus))
    assert plain.stdout.splitlines()[0].startswith(people[0]["name"])
