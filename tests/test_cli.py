import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def rag(*args: str, cwd=None) -> subprocess.CompletedProcess:
    # This checkout's rag first, whatever the working directory (an installed one, or a
    # relative PYTHONPATH, would otherwise be what runs).
    path = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    return subprocess.run(
        [sys.executable, "-m", "rag.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env={**os.environ, "PYTHONPATH": path},
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


def test_a_second_corpus_without_index_dir_gets_its_own_index_folder(tmp_path):
    from rag.corpus import default_index_dir

    for name, text in [
        (
            "a",
            "Harbour works in Velmora\n\nMayor Ilse Varga said the new harbour would open in May.\n",
        ),
        (
            "b",
            "Orchards of Tessin\n\nFarmer Kalle Brun said the apple harvest was poor this year.\n",
        ),
    ]:
        (tmp_path / name).mkdir()
        (tmp_path / name / f"{name}.txt").write_text(text, encoding="utf-8")
    built = rag("index", "a", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    # The progress bars say what they count.
    assert "analysing articles" in built.stderr and "embedding sentences" in built.stderr
    assert "Batches" not in built.stderr
    first = tmp_path / default_index_dir(tmp_path / "a")
    assert first.parent == tmp_path / "index" and str(first.relative_to(tmp_path)) in built.stdout
    before = {p: p.read_bytes() for p in first.rglob("*") if p.is_file()}

    q = "What did Kalle Brun say about the harvest?"
    out = rag("ask", q, "--corpus", "b", "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    (quote,) = json.loads(out.stdout)["quotes"]
    assert quote["source"] == "b.txt" and "apple harvest was poor" in quote["text"]
    second = tmp_path / default_index_dir(tmp_path / "b")
    assert second != first and (second / "CURRENT").is_file()
    assert {p: p.read_bytes() for p in first.rglob("*") if p.is_file()} == before

    # Pointed at the first corpus's index, the second is refused, naming both folders.
    out = rag("--index-dir", str(first), "ask", "Apples?", "--corpus", "b", cwd=tmp_path)
    assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
    assert str((tmp_path / "a").resolve()) in out.stderr
    assert str((tmp_path / "b").resolve()) in out.stderr and "--index-dir" in out.stderr
    assert {p: p.read_bytes() for p in first.rglob("*") if p.is_file()} == before


def test_ask_prints_plain_text_unless_markdown_is_asked_for(tmp_path, embedder, write_articles):
    from rag import Assistant

    corpus = write_articles(
        tmp_path / "corpus",
        {
            "harbour_plan.txt": "Harbour works in Velmora\n\n"
            "Mayor Ilse Varga said the new harbour (the third) would open in May.\n"
        },
    )
    index = tmp_path / "index"
    Assistant(corpus, index, embedder=embedder)  # built here: the CLI only reads it
    args = ("--index-dir", str(index), "ask", "When will the new harbour open?")
    plain = rag(*args, "--corpus", str(corpus))
    assert plain.returncode == 0, plain.stderr
    assert "\\" not in plain.stdout
    assert plain.stdout.startswith(
        "[1] Mayor Ilse Varga said the new harbour (the third) would open in May.\n"
    )
    assert "— Ilse Varga, in Harbour works in Velmora (harbour_plan.txt, characters 26–94)" in (
        plain.stdout
    )
    md = rag(*args, "--corpus", str(corpus), "--markdown")
    assert md.returncode == 0, md.stderr
    assert "harbour\\_plan\\.txt" in md.stdout and "\\(the third\\)" in md.stdout
    assert md.stdout.startswith("> Mayor Ilse Varga")


def test_index_names_a_bad_file_once_and_indexes_the_rest(tmp_path, write_articles):
    corpus = write_articles(
        tmp_path / "corpus",
        {
            "good.txt": "Ferry to Koravik\n\nSkipper Ola Brenn said the ferry would sail twice a day.\n"
        },
    )
    (corpus / "latin1.txt").write_bytes("Caf\xe9 in Koravik\n\nIt opened.\n".encode("latin-1"))
    out = rag("--index-dir", str(tmp_path / "index"), "index", str(corpus))
    assert out.returncode == 0, out.stderr
    assert "indexed 1 articles" in out.stdout
    # The summary names it with the reason; the log does not say it a second time.
    assert out.stderr.count("latin1.txt") == 1, out.stderr
    assert "skipped latin1.txt: not UTF-8 text" in out.stderr
