"""Load a masked LM and its tokenizer from a local directory (or the local Hugging Face cache), safely.

Never downloads, never runs remote code, never unpickles: weights must be safetensors. The device is
CUDA when present (bf16 where supported, else fp16), else CPU in fp32; ``device`` overrides.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from probing.families import Family, family_for
from probing.model_files import checked_model_dir
from tracer.errors import ConfigError, DependencyMissing

try:
    import torch
    import transformers  # noqa: F401 - fail here, with the install hint, not deep inside loading
except ImportError as err:  # pragma: no cover - the probing extra is missing
    raise DependencyMissing("probing needs torch and transformers: pip install 'factrace[probing]'") from err


@dataclass
class LoadedModel:
    model: Any  # transformers PreTrainedModel with a masked-LM head
    tokenizer: Any  # transformers PreTrainedTokenizerFast
    family: Family
    device: torch.device
    dtype: torch.dtype
    source: str
    fp32_twin: LoadedModel | None = None  # the same weights in fp32, loaded once for neuron capture


def limit_threads(cpus: int) -> None:
    """Use the cores the task was given, not every core of the machine."""
    torch.set_num_threads(max(1, cpus))


def in_fp32(loaded: LoadedModel) -> LoadedModel:
    """The model itself when it runs in fp32; else its weights loaded again in fp32 on the same device (once).

    A bf16 copy rounds the weights as well as every activation; an fp32 copy made from it would keep the
    rounded weights, so the twin is read from the model's own files.
    """
    if loaded.dtype == torch.float32:
        return loaded
    if loaded.fp32_twin is None:
        loaded.fp32_twin = load_masked_lm(loaded.source, str(loaded.device), torch.float32)
    return loaded.fp32_twin


def select_device(requested: str | None = None) -> tuple[torch.device, torch.dtype]:
    """CUDA (bf16, else fp16) when available, else CPU fp32; an explicit device keeps that rule's dtype."""
    name = requested or ("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"device {name!r} requested but CUDA is not available here")
        return device, torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return device, torch.float32


def load_masked_lm(spec: str, device: str | None = None, dtype: torch.dtype | None = None) -> LoadedModel:
    """The model and tokenizer in ``spec``, on ``device`` (default: CUDA when present), in ``dtype`` (default: by
    device, ``select_device``)."""
    from transformers import AutoConfig, AutoModelForMaskedLM, AutoTokenizer

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    source = checked_model_dir(spec)
    config = AutoConfig.from_pretrained(source, local_files_only=True, trust_remote_code=False)
    family = family_for(config.model_type)
    torch_device, default_dtype = select_device(device)
    dtype = dtype or default_dtype
    model = AutoModelForMaskedLM.from_pretrained(
        source,
        local_files_only=True,
        trust_remote_code=False,
        use_safetensors=True,
        dtype=dtype,
        attn_implementation="sdpa",
    )
    model.to(torch_device).eval()
    tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True, trust_remote_code=False)
    if tokenizer.mask_token_id is None:
        raise ConfigError(f"the tokenizer in {source} has no mask token")
    return LoadedModel(model, tokenizer, family, torch_device, dtype, str(spec))
