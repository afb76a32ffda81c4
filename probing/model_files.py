"""A model on disk: where it is (local directory or the local Hugging Face cache), whether it is safe to
load, and its stable id. Needs neither torch nor transformers, so the driver of a Spark job can plan."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from tracer import storage
from tracer.errors import ConfigError, InputNotFound

HASHED = ("config.json", "tokenizer.json", "vocab.txt", "sentencepiece.bpe.model")


def model_dir(spec: str) -> Path:
    """The directory of ``spec``: a local path, a folder on a store (copied to local disk once per machine and
    content), or a hub name already in the cache (never a download)."""
    if not storage.is_local(spec):
        return storage.local_tree(spec)
    path = Path(spec)
    if path.is_dir():
        return path
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(spec, local_files_only=True))
    except (ImportError, OSError, ValueError) as err:  # no hub client, not cached, or not a valid name
        raise InputNotFound(
            f"model {spec!r} is neither a local directory nor in the Hugging Face cache; factrace never "
            "downloads: pass --model DIR (a save_pretrained directory with safetensors weights)"
        ) from err


def checked_model_dir(spec: str) -> Path:
    """``model_dir`` plus the rules: a config, and safetensors weights (pickled ``.bin`` is refused)."""
    source = model_dir(spec)
    if not (source / "config.json").exists():
        raise InputNotFound(f"{source} has no config.json: not a save_pretrained model directory")
    if not weight_files(source):
        raise ConfigError(
            f"{source} has no .safetensors weights; factrace does not unpickle .bin files. Convert once with "
            "model.save_pretrained(dir, safe_serialization=True) from a trusted environment"
        )
    return source


def weight_files(source: Path) -> list[Path]:
    return sorted(source.glob("*.safetensors"))


def model_id(source: Path, name: str | None = None) -> str:
    """``<name>-<sha1 prefix>`` over config, tokenizer and weights: a fine-tune gets a new id."""
    digest = hashlib.sha1()
    for path in [source / f for f in HASHED if (source / f).exists()] + weight_files(source):
        digest.update(path.name.encode())
        with open(path, "rb") as f:
            while block := f.read(8 << 20):
                digest.update(block)
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name or source.resolve().name).strip("-.") or "model"
    return f"{slug}-{digest.hexdigest()[:10]}"
