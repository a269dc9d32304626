"""The grid declaration: names, kinds, and named errors."""

from __future__ import annotations

import pytest

from mosaic_kedro.grid import conditions
from mosaic_kedro.params import ParameterError

DEFAULT = {"seeds": [1], "exact": [1, 2, 4, 8],
           "fuzzy": [{"strategy": "clm", "top_k": 10, "replaced_tokens": [4, 16]}]}


def test_default_names():
    names = [c.name for c in conditions(DEFAULT)]
    assert names == ["exact_n01_s1", "exact_n02_s1", "exact_n04_s1", "exact_n08_s1",
                     "fuzzy_clm_topk10_r04_s1", "fuzzy_clm_topk10_r16_s1"]
    fuzzy = conditions(DEFAULT)[-1]
    assert fuzzy.kind == "fuzzy_clm_topk10" and fuzzy.value == 16 and fuzzy.num_copies == 9
    assert fuzzy.perturbation["replaced_tokens"] == 16
    assert fuzzy.candidate_key == "clm_topk10_s1"


def test_every_kind():
    grid = {
        "seeds": [1, 2], "exact": [1, 2],
        "fuzzy": [{"strategy": "mlm", "top_k": 100, "replaced_tokens": [1]},
                  {"strategy": "mlm_random", "replaced_tokens": [5]},
                  {"strategy": "random", "replaced_tokens": [5]}],
        "insertion": [{"ngram": [1, 5], "inserted": [1, 10]}],
        "scrambled": [{"ngram": [5]}],
        "shuffle": [{"ngram": [5], "tau": [0.1, 0.9]}],
        "paraphrase": [{"num_copies": 9}],
    }
    conds = conditions(grid)
    names = {c.name for c in conds}
    assert len(conds) == 2 * (2 + 3 + 4 + 1 + 2 + 1)
    assert {"fuzzy_mlm_topk100_r01_s2", "fuzzy_mlm_random_r05_s1", "fuzzy_random_r05_s1",
            "insertion_n05_x10_s1", "scrambled_n05_s1", "shuffle_n05_t090_s2",
            "paraphrase_c09_s1"} <= names
    shuffle = next(c for c in conds if c.name == "shuffle_n05_t010_s1")
    assert shuffle.perturbation == {"strategy": "shuffle", "ngram": 5, "tau": 0.1,
                                    "num_copies": 9}
    assert shuffle.candidate_key is None


def test_unknown_strategy_is_named():
    bad = {**DEFAULT, "fuzzy": [{"strategy": "gpt", "replaced_tokens": [1]}]}
    with pytest.raises(ParameterError, match=r"grid\.fuzzy\.0\.strategy"):
        conditions(bad)


@pytest.mark.parametrize("key, value, where", [
    ("exact", [1, "two"], r"grid\.exact\.1"),
    ("seeds", [1.5], r"grid\.seeds\.0"),
    ("fuzzy", [{"strategy": "clm", "replaced_tokens": ["4"]}], r"grid\.fuzzy\.0\.replaced_tokens\.0"),
    ("shuffle", [{"ngram": [5], "tau": [1.5]}], r"grid\.shuffle\.0\.tau\.0"),
    ("insertion", [{"ngram": 5, "inserted": [1]}], r"grid\.insertion\.0\.ngram"),
])
def test_wrong_types_are_named(key, value, where):
    with pytest.raises(ParameterError, match=where):
        conditions({**DEFAULT, key: value})
