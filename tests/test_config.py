"""Settings are checked once, where they are made, and the error names the field."""

import pytest

from rag import IndexSettings, Settings


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: Settings(retrieval="fuzzy"), "retrieval"),
        (lambda: Settings(max_quotes=0), "max_quotes"),
        (lambda: Settings(candidates=0), "candidates"),
        (lambda: IndexSettings(passage_vectors="max"), "passage_vectors"),
        (lambda: IndexSettings(passage_stride=9), "passage_stride"),
        (lambda: IndexSettings(passage_max_tokens=400), "passage_max_tokens"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(make, field):
    with pytest.raises(ValueError, match=field):
        make()


def test_defaults_are_valid_and_recorded():
    assert IndexSettings().as_dict()["passage_vectors"] == "mean"
