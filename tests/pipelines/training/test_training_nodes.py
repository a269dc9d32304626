"""training nodes: parameter validation, the checkpoint fingerprint, the pipeline shape."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mosaic_kedro.params import ParameterError
from mosaic_kedro.pipelines.training import nodes
from mosaic_kedro.pipelines.training.pipeline import build


def test_bad_parameter_names_the_key():
    with pytest.raises(ParameterError, match=r"training.learning_rate = -1"):
        nodes.validate_params({"learning_rate": -1})
    with pytest.raises(ParameterError, match=r"training.epochs"):
        nodes.validate_params({"epochs": 1})
    assert nodes.validate_params({})["weight_decay"] == 0.01


def test_fingerprint_follows_settings_and_data():
    config = nodes.validate_params({})
    chunks = np.empty(2, dtype=object)
    chunks[0], chunks[1] = np.arange(4), np.arange(4, 8)
    same = nodes._fingerprint({**config, "report_to": ["wandb"]}, chunks)
    assert nodes._fingerprint(config, chunks) == same  # logging does not matter
    assert nodes._fingerprint({**config, "learning_rate": 1e-3}, chunks) != same
    assert nodes._fingerprint(config, chunks[::-1]) != same  # another shuffle


def test_gather_keeps_columns_and_handles_empty():
    frame = pd.DataFrame([{"condition": "a", "step": 0, "auc_loss": 0.5, "ppl_members": 2.0,
                           "ppl_non_members": 2.0}])
    gathered = nodes.gather_training_metrics(frame, frame)
    assert len(gathered) == 2 and list(gathered.columns) == nodes.TRAINING_COLUMNS
    assert gathered["ppl_members_median"].isna().all()  # older metrics: no median
    assert list(nodes.gather_training_metrics().columns) == nodes.TRAINING_COLUMNS


def test_one_namespace_per_condition():
    grid = {"seeds": [1, 2], "exact": [1, 2],
            "fuzzy": [{"strategy": "clm", "top_k": 10, "replaced_tokens": [4]}]}
    pipe = build(grid)
    outputs = pipe.all_outputs()
    assert "exact_n02_s2.target_model" in outputs
    assert "fuzzy_clm_topk10_r04_s1.training_metrics" in outputs
    assert {"base_model", "canaries", "params:training"} <= pipe.inputs()
    assert "exact_n01_s1.injected_corpus" in pipe.inputs()
    assert len(pipe.only_nodes_with_namespaces(["exact_n01_s1"]).nodes) == 1


def test_missing_canaries_of_a_seed():
    canaries = pd.DataFrame({"seed": [1], "set": ["member"], "tokens": [[1, 2]],
                             "canary_id": ["a"]})
    with pytest.raises(ValueError, match="no canaries for seed 2"):
        nodes._canary_tokens(canaries, 2)
