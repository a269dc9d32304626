"""Training causal LMs: the embedded target's tokenizer and architecture, book
chunking, and one Hugging Face ``Trainer`` set-up shared by the base model's
pretraining (``preparation``) and continued pretraining (``training``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mosaic_kedro.models import pad_id

logger = logging.getLogger(__name__)

SPECIAL_TOKEN = "<|endoftext|>"


def train_bpe_tokenizer(texts: Sequence[str], vocab_size: int) -> Any:
    """A byte-level BPE tokenizer (GPT-2 style) trained on ``texts``.

    ``<|endoftext|>`` is its only special token (BOS = EOS = PAD, as in GPT-2); it is
    never emitted when encoding text without special tokens.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[SPECIAL_TOKEN],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token=SPECIAL_TOKEN,
        eos_token=SPECIAL_TOKEN,
        pad_token=SPECIAL_TOKEN,
        unk_token=SPECIAL_TOKEN,
        clean_up_tokenization_spaces=False,
    )


def tiny_gpt2(tokenizer: Any, *, n_layer: int, n_embd: int, n_head: int, n_positions: int, seed: int) -> Any:
    """A freshly initialized GPT-2 sized for a CPU (dropout off)."""
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=n_positions,
        n_embd=n_embd,
        n_layer=n_layer,
        n_head=n_head,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return GPT2LMHeadModel(config)


def encode_books(tokenizer: Any, texts: Sequence[str]) -> list[list[int]]:
    """Token ids of each book, without special tokens."""
    return [list(ids) for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"]]


def chunk_books(token_lists: Sequence[Sequence[int]], block_size: int, seed: int) -> np.ndarray:
    """Consecutive ``block_size`` chunks that never cross books, shuffled with ``seed``.

    Every token of every book is in exactly one chunk: a book's last, shorter chunk is
    kept however short (the collator pads it with labels the loss ignores), so no
    injected piece loses its end. Returns an object array of int64 arrays (ragged only
    at book tails).
    """
    if block_size < 1:
        raise ValueError(f"block_size must be >= 1, got {block_size}")
    chunks = []
    for tokens in token_lists:
        arr = np.asarray(tokens, dtype=np.int64)
        for start in range(0, len(arr), block_size):
            chunks.append(arr[start : start + block_size])
    order = np.random.default_rng(seed).permutation(len(chunks))
    out = np.empty(len(chunks), dtype=object)
    for i, j in enumerate(order):
        out[i] = chunks[j]
    return out


class CausalCollator:
    """Right-pads a batch of chunks; padding is masked out and labelled -100.

    Works with tokenizers without a pad token (the paper's targets): the pad id is
    any id (``pad_token_id``, else EOS, else 0) because no padding position is attended
    to or enters the loss. Every real token is a label (an EOS inside the data too),
    unlike ``DataCollatorForLanguageModeling``, which also ignores real tokens equal to
    the pad id.
    """

    def __init__(self, pad_token_id: int) -> None:
        self.pad_token_id = int(pad_token_id)

    def __call__(self, features: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:  # noqa: D102
        width = max(len(f["input_ids"]) for f in features)
        ids = torch.full((len(features), width), self.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(features), width), dtype=torch.long)
        for row, feature in enumerate(features):
            seq = torch.as_tensor(list(feature["input_ids"]), dtype=torch.long)
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        labels = ids.masked_fill(mask == 0, -100)
        return {"input_ids": ids, "attention_mask": mask, "labels": labels}


class ChunkDataset(torch.utils.data.Dataset):
    """Pre-shuffled token chunks for the Trainer (its own shuffling is turned off)."""

    def __init__(self, chunks: np.ndarray) -> None:
        self.chunks = chunks

    def __len__(self) -> int:
        return len(self.chunks)

    def __getitem__(self, index: int) -> dict[str, list[int]]:
        return {"input_ids": self.chunks[index].tolist()}


def make_throughput_callback(tokens_per_step: int) -> Any:
    """A ``TrainerCallback`` adding tokens/s to the log lines."""
    from transformers import TrainerCallback

    class _Throughput(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):  # noqa: D102
            self.start = time.perf_counter()

        def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: D102
            elapsed = time.perf_counter() - self.start
            # The leakage callback's metrics (``mia/*``) already have their own line.
            # (the Trainer adds ``epoch`` to every log dict).
            if logs and all(k.startswith("mia/") or k == "epoch" for k in logs):
                return
            if logs is not None and elapsed > 0 and state.global_step:
                logs["tokens_per_s"] = round(state.global_step * tokens_per_step / elapsed)
                logger.info("step %d/%d %s", state.global_step, state.max_steps,
                            {k: v for k, v in logs.items() if k != "total_flos"})

    return _Throughput()


def tied_parameter_names(model: Any) -> dict[str, str]:
    """``{tied: source}`` parameter names that share one tensor (``lm_head.weight`` ->
    the input embeddings in a tied-embedding model), as ``model`` is now.

    Safetensors stores a shared tensor once, so a checkpoint holds the source and not
    the tied name; loading the source fills both.
    """
    named = dict(model.named_parameters(remove_duplicate=False))
    first: dict[int, str] = {}
    tied = {}
    for name, param in named.items():
        source = first.setdefault(id(param), name)
        if source != name:
            tied[name] = source
    return tied


def _make_trainer(**kwargs: Any) -> Any:
    """A ``Trainer`` that does not warn about tied weights a checkpoint never holds.

    On resume the Trainer loads ``model.safetensors`` with ``strict=False`` and warns
    about every missing key; for a tied-embedding model that is ``lm_head.weight``,
    which safetensors drops because it is the input embedding's tensor. The load
    fills that shared tensor, so the weight is restored: the key is checked to still
    be tied and only logged (at INFO); any other missing key keeps the warning.
    """
    from transformers import Trainer

    class _TiedAwareTrainer(Trainer):
        def _issue_warnings_after_load(self, load_result: Any) -> None:
            tied = tied_parameter_names(self.model)
            restored = [k for k in load_result.missing_keys
                        if k in tied and tied[k] not in load_result.missing_keys]
            if restored:
                logger.info("resume: %s not in the checkpoint because tied (safetensors "
                            "stores a shared tensor once); restored through the tensor it "
                            "shares, still tied", ", ".join(f"{k} = {tied[k]}" for k in restored))
                missing = [k for k in load_result.missing_keys if k not in restored]
                load_result = load_result._replace(missing_keys=missing)
            super()._issue_warnings_after_load(load_result)

    return _TiedAwareTrainer(**kwargs)


def train_causal_lm(
    model: Any,
    tokenizer: Any,
    chunks: np.ndarray,
    *,
    output_dir: str | Path,
    learning_rate: float,
    batch_size: int,
    seed: int,
    num_epochs: float = 1.0,
    weight_decay: float = 0.01,
    warmup_steps: int = 0,
    logging_steps: int = 20,
    save_steps: int = 0,
    device: str = "auto",
    report_to: Sequence[str] = (),
    callbacks: Sequence[Any] = (),
    resume: bool = True,
) -> Any:
    """One run of the Hugging Face Trainer: AdamW, linear decay, the given seed.

    Chunks are used in the order given (already shuffled with the run's seed), so a
    CPU run is deterministic under ``seed``. Batches are padded by
    :class:`CausalCollator`, so tokenizers without a pad token train as they are (the
    tokenizer is not changed). With ``save_steps > 0`` checkpoints go to
    ``output_dir`` and a rerun resumes from the last one.
    """
    from transformers import PrinterCallback, TrainingArguments
    from transformers.trainer_utils import get_last_checkpoint

    use_cpu = device == "cpu" or (device == "auto" and not torch.cuda.is_available())
    bf16 = not use_cpu and torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    output_dir = Path(output_dir)
    args = TrainingArguments(
        output_dir=str(output_dir),
        per_device_train_batch_size=batch_size,
        learning_rate=learning_rate,
        weight_decay=weight_decay,
        num_train_epochs=num_epochs,
        lr_scheduler_type="linear",
        warmup_steps=warmup_steps,
        optim="adamw_torch",
        logging_steps=logging_steps,
        save_strategy="steps" if save_steps > 0 else "no",
        save_steps=max(save_steps, 1),
        save_total_limit=1,
        seed=seed,
        data_seed=seed,
        use_cpu=use_cpu,
        bf16=bf16,
        report_to=list(report_to) or "none",
        disable_tqdm=True,
        dataloader_num_workers=0,
        train_sampling_strategy="sequential",
    )
    trainer = _make_trainer(
        model=model,
        args=args,
        train_dataset=ChunkDataset(chunks),
        data_collator=CausalCollator(pad_id(tokenizer)),
        callbacks=[make_throughput_callback(batch_size * max(len(c) for c in chunks)),
                   *callbacks],
    )
    # The throughput callback logs every log dict through `logging`; the Trainer's
    # PrinterCallback would print the same dict a second time with print().
    trainer.remove_callback(PrinterCallback)
    for callback in callbacks:  # callbacks that log through the Trainer (report_to)
        if hasattr(callback, "bind_trainer"):
            callback.bind_trainer(trainer)
    last = get_last_checkpoint(str(output_dir)) if resume and output_dir.is_dir() else None
    if last:
        logger.info("resuming from checkpoint %s", last)
    trainer.train(resume_from_checkpoint=last)
    model.eval()
    return model
