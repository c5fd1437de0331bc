"""Settings are checked once, where they are made, and the error names the field."""

import json
from dataclasses import fields, replace
from typing import Any

import pytest

from rag import IndexSettings, Settings
from rag.config import PASSAGE_VECTORS, RETRIEVAL_MODES


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: Settings(retrieval="fuzzy"), "retrieval"),  # type: ignore[arg-type]
        (lambda: Settings(max_quotes=0), "max_quotes"),
        (lambda: Settings(candidates=0), "candidates"),
        (lambda: IndexSettings(passage_vectors="max"), "passage_vectors"),  # type: ignore[arg-type]
        (lambda: IndexSettings(passage_stride=9), "passage_stride"),
        (lambda: IndexSettings(passage_max_tokens=400), "passage_max_tokens"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(make, field):
    with pytest.raises(ValueError, match=field):
        make()


# A valid value other than the default for every index setting.
OTHER_INDEX_VALUES: dict[str, Any] = {
    "passage_sentences": 3,
    "passage_stride": 1,
    "passage_max_tokens": 128,
    "passage_vectors": "embedded",
}


def test_every_index_setting_is_recorded_so_that_changing_it_rebuilds():
    # The manifest records as_dict(); a saved index is reused only when it is equal, so
    # a field as_dict() left out could change without the index being rebuilt.
    base = IndexSettings()
    assert set(OTHER_INDEX_VALUES) == {f.name for f in fields(IndexSettings)}
    for name, value in OTHER_INDEX_VALUES.items():
        changed = replace(base, **{name: value}).as_dict()
        assert changed != base.as_dict() and changed[name] == value, name
    assert json.loads(json.dumps(base.as_dict())) == base.as_dict()  # it goes into JSON as is


@pytest.mark.parametrize(
    ("options", "make"),
    [
        (RETRIEVAL_MODES, lambda v: Settings(retrieval=v)),
        (PASSAGE_VECTORS, lambda v: IndexSettings(passage_vectors=v)),
    ],
)
def test_every_option_of_a_setting_is_accepted(options, make):
    assert len(options) >= 2
    for value in options:
        make(value)
