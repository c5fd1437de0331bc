from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.search import _present_in
from rag.text import normalize, split_sentences, title_of, tokenize

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def sentences(name: str) -> list[str]:
    text = (SEEDS / name).read_text(encoding="utf-8")
    return [text[s.start : s.end] for s in split_sentences(text)]


def test_normalize_folds_unicode_dashes_quotes_case_space():
    assert normalize("𝒄𝒂𝓊𝓰𝒉𝓉") == "caught"
    assert normalize("28\u2011point") == "28-point"
    assert normalize("“Hi”  ‘there’\u00a0NOW") == "\"hi\" 'there' now"


def test_tokenize_unifies_spelling_variants():
    assert tokenize("Kiev") == tokenize("Kyiv")
    assert tokenize("defence") == tokenize("defense")
    assert tokenize("the of and") == []


def test_quotation_of_several_sentences_keeps_its_attribution():
    s = sentences("000_81fe3f3830062f5a.txt")
    assert "'So, let's put Putin to the test." in s
    assert (
        "Let's see if he really wants peace, or if he prefers the slaughter to continue,' he said."
        in s
    )


def test_quotation_group_spans_its_sentences():
    text = (SEEDS / "001_e30ad69a05aee708.txt").read_text(encoding="utf-8")
    spans = split_sentences(text)
    first = next(i for i, s in enumerate(spans) if text[s.start : s.end].startswith("“In 2014"))
    assert spans[first + 1].group == spans[first].group == spans[first + 2].group == first
    assert text[spans[first + 2].start : spans[first + 2].end].endswith("Rutte said.")
    assert spans[first + 3].group == first + 3


def test_stop_glued_to_opening_quote_is_a_boundary():
    s = sentences("001_e30ad69a05aee708.txt")
    assert "“Rubio is absolutely right,” Rutte said." in s
    assert any(x.endswith("there should be a strong peace treaty.") for x in s)


def test_closing_quote_written_as_opening_mark():
    s = sentences("004_58775ba19e664a39.txt")
    assert any(x.endswith("whether Russia will “play ball.“") for x in s)
    assert any(x.startswith("He stressed that without Russian engagement") for x in s)


def test_abbreviations_do_not_split():
    s = sentences("003_0c27a898a610b2f4.txt")
    assert any(
        x.startswith("Rutte also expressed appreciation for U.S. President Donald Trump") for x in s
    )
    s4 = sentences("004_58775ba19e664a39.txt")
    assert any("with U.S.-led initiatives probing for openings." in x for x in s4)


def test_headlines_and_list_items_stand_alone_without_bullets():
    s = sentences("001_e30ad69a05aee708.txt")
    assert "Trump’s peace plan for Ukraine may be revealed next week" in s
    assert not any(x.startswith("- ") for x in s)
    s0 = sentences("000_81fe3f3830062f5a.txt")
    assert "Why a Joint Plan Matters" in s0


@pytest.mark.parametrize(
    "furniture", ["Similar Articles", "Thumbnail", "fec/fz/jj", "Related:", "Conflict", "CRBC News"]
)
def test_page_furniture_never_becomes_a_sentence(furniture):
    every = [x for p in sorted(SEEDS.glob("*.txt")) for x in sentences(p.name)]
    assert furniture not in every
    assert not any("(Tobias SCHWARZ" in x for x in every)


def test_spans_are_verbatim_and_ordered_for_odd_text():
    text = "  A title of some length\r\n\n- item one\n“Quote. Two.” he said.\tEnd!\n\n"
    spans = split_sentences(text)
    assert [text[s.start : s.end] for s in spans][0] == "A title of some length"
    for a, b in zip(spans, spans[1:], strict=False):
        assert a.end <= b.start
    for s in spans:
        assert text[s.start : s.end] == text[s.start : s.end].strip()


def test_title_is_first_non_empty_line():
    assert title_of("\n\n  Hello world \nbody") == "Hello world"
    assert split_sentences("") == []


def _present_by_scan(term: str, tokens: set[str]) -> bool:
    """The prefix rule of topic coverage, token by token (what `_present_in` must equal)."""
    if term in tokens:
        return True
    if len(term) < 4:
        return False
    return any(t.startswith(term[:5]) or (len(t) >= 4 and term.startswith(t[:5])) for t in tokens)


_WORDS = st.text(alphabet="abcdeprsty", min_size=1, max_size=8)


@given(st.sets(_WORDS, max_size=12), st.lists(_WORDS, max_size=6))
@settings(max_examples=400, deadline=None)
def test_topic_coverage_prefix_rule(tokens: set[str], terms: list[str]):
    test = _present_in(tokens)
    for term in terms + ["pray", "prayers", "occupied"]:
        assert test(term) == _present_by_scan(term, tokens), (term, tokens)
