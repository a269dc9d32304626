"""A ``TrainerCallback`` tracking membership leakage during training (SPEC §4).

Every ``eval_steps`` optimizer steps (and before the first and after the last) it scores
the member and non-member canaries with :func:`mosaic_kedro.models.score_sequences`,
and records the loss-attack AUC (members positive, see :mod:`mosaic_kedro.mia_scores`)
and the mean and median member / non-member perplexity (the median is what the report
draws: one canary the model has not learned can dominate a mean of perplexities). The values are also put into the
Trainer's log, so W&B / MLflow / TensorBoard receive them when ``report_to`` asks.
Nothing is caught: a failure while evaluating stops the training.

The history travels with the Trainer's checkpoints: every save writes it as
``leakage_history.json`` into the checkpoint directory (atomically), and a run resumed
from ``checkpoint-N`` starts from that file's rows up to step N, so its final table is
the uninterrupted run's.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mosaic_kedro.mia_scores import auc, with_bos
from mosaic_kedro.models import pad_id, perplexity, score_sequences

logger = logging.getLogger(__name__)

METRIC_COLUMNS = ["condition", "step", "auc_loss", "ppl_members", "ppl_non_members",
                  "ppl_members_median", "ppl_non_members_median"]

HISTORY_FILE = "leakage_history.json"


def save_history(rows: Sequence[dict[str, Any]], checkpoint_dir: str | Path) -> Path:
    """Write ``rows`` as JSON into ``checkpoint_dir`` (temp name + rename: atomic)."""
    path = Path(checkpoint_dir) / HISTORY_FILE
    tmp = path.with_name(f".{HISTORY_FILE}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(list(rows), indent=1), encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_history(checkpoint_dir: str | Path, step: int) -> list[dict[str, Any]] | None:
    """The rows saved with ``checkpoint_dir`` up to ``step``; ``None`` when it has none."""
    path = Path(checkpoint_dir) / HISTORY_FILE
    if not path.is_file():
        return None
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"the leakage history {path} is not valid JSON ({exc}); delete {Path(checkpoint_dir)} "
            "to resume from the checkpoint before it, or its parent folder to retrain from scratch"
        ) from exc
    return [row for row in rows if int(row["step"]) <= step]


def leakage_metrics(
    model: Any,
    tokenizer: Any,
    members: Sequence[Sequence[int]],
    non_members: Sequence[Sequence[int]],
    *,
    batch_size: int = 32,
    prepend_bos: bool = False,
) -> dict[str, float]:
    """Loss-attack AUC and mean / median perplexities of members and non-members."""
    seqs = [with_bos(t, tokenizer, prepend_bos) for t in [*members, *non_members]]
    was_training = model.training
    model.eval()
    try:
        scored = score_sequences(model, seqs, batch_size=batch_size, pad_token_id=pad_id(tokenizer))
    finally:
        model.train(was_training)
    ppl = np.array([perplexity(s.logprobs) for s in scored])
    is_member = np.arange(len(seqs)) < len(members)
    values = {
        "auc_loss": auc(ppl, is_member),
        "ppl_members": float(ppl[is_member].mean()),
        "ppl_non_members": float(ppl[~is_member].mean()),
        "ppl_members_median": float(np.median(ppl[is_member])),
        "ppl_non_members_median": float(np.median(ppl[~is_member])),
    }
    if not all(math.isfinite(v) for v in values.values()):
        raise FloatingPointError(f"non-finite leakage metrics {values}")
    return values


def make_leakage_callback(
    condition: str,
    tokenizer: Any,
    members: Sequence[Sequence[int]],
    non_members: Sequence[Sequence[int]],
    *,
    eval_steps: int,
    batch_size: int = 32,
    prepend_bos: bool = False,
) -> Any:
    """The callback; its ``history`` (a list of dicts) becomes the metrics table."""
    from transformers import TrainerCallback

    class LeakageCallback(TrainerCallback):
        """Loss-attack AUC and perplexities every ``eval_steps``."""

        def __init__(self) -> None:
            self.history: list[dict[str, Any]] = []

        def _measure(self, state: Any, model: Any) -> dict[str, float]:
            values = leakage_metrics(model, tokenizer, members, non_members,
                                     batch_size=batch_size, prepend_bos=prepend_bos)
            self.history.append({"condition": condition, "step": state.global_step, **values})
            logger.info("%s step %d: loss-attack AUC %.3f, ppl members %.2f / non-members %.2f",
                        condition, state.global_step, values["auc_loss"],
                        values["ppl_members"], values["ppl_non_members"])
            return values

        def on_train_begin(self, args, state, control, model=None, **kwargs):  # noqa: D102
            if state.global_step > 0:  # resumed from output_dir/checkpoint-<step>
                checkpoint = Path(args.output_dir) / f"checkpoint-{state.global_step}"
                rows = load_history(checkpoint, state.global_step)
                if rows is not None:
                    self.history = rows
                    logger.info("%s: resumed the leakage history (%d rows up to step %d) from %s",
                                condition, len(rows), state.global_step, checkpoint)
                    return
                logger.warning(
                    "%s: checkpoint %s has no %s, so the training-time metrics before step %d "
                    "are lost (the table starts at the resumed step); delete %s to retrain "
                    "from scratch with a complete history",
                    condition, checkpoint, HISTORY_FILE, state.global_step, args.output_dir)
            self._measure(state, model)

        def on_save(self, args, state, control, **kwargs):  # noqa: D102
            checkpoint = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if checkpoint.is_dir():
                save_history(self.history, checkpoint)

        def bind_trainer(self, trainer: Any) -> None:
            """Called by ``train_causal_lm``: lets the metrics reach ``report_to``."""
            self.trainer = trainer

        def on_step_end(self, args, state, control, model=None, **kwargs):  # noqa: D102
            if eval_steps > 0 and state.global_step % eval_steps == 0:
                values = self._measure(state, model)
                trainer = getattr(self, "trainer", None)
                if trainer is not None:
                    trainer.log({f"mia/{k}": v for k, v in values.items()})

        def on_train_end(self, args, state, control, model=None, **kwargs):  # noqa: D102
            if not self.history or self.history[-1]["step"] != state.global_step:
                self._measure(state, model)

        def table(self) -> pd.DataFrame:
            """The history as a ``condition, step, auc_loss, ppl_*`` table."""
            return pd.DataFrame(self.history, columns=METRIC_COLUMNS)

    return LeakageCallback()
