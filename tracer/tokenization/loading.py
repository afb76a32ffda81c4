"""Load a tokenizer from a ``tokenizer.json``, a WordPiece ``vocab.txt``, a local model directory,
or a hub name already in the local cache; give it a stable id and keep a copy in the warehouse.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from tokenizers import Tokenizer
from tokenizers.implementations import BertWordPieceTokenizer

from tracer import storage
from tracer.errors import BadInput, InputNotFound

_HUB_NAME = re.compile(r"^[\w.-]+/[\w.-]+$|^[\w.-]+$")


@dataclass(frozen=True, slots=True)
class LoadedTokenizer:
    tokenizer: Tokenizer
    tokenizer_id: str
    source: str

    def to_json(self) -> str:
        return self.tokenizer.to_str()


def _bert_options(directory: Path) -> dict[str, bool]:
    config = directory / "tokenizer_config.json"
    lowercase = False
    if config.exists():
        lowercase = bool(json.loads(config.read_text(encoding="utf-8")).get("do_lower_case", False))
    return {"lowercase": lowercase, "strip_accents": lowercase}


def _from_vocab(vocab: Path, lowercase: bool | None) -> Tokenizer:
    options = _bert_options(vocab.parent)
    if lowercase is not None:
        options = {"lowercase": lowercase, "strip_accents": lowercase}
    try:
        return BertWordPieceTokenizer(str(vocab), **options)._tokenizer
    except Exception as err:  # noqa: BLE001 - the tokenizers library raises TypeError or plain Exception
        raise BadInput(
            f"{vocab} is not a BERT WordPiece vocabulary ({err}): it needs one token per line, with [CLS], "
            "[SEP], [UNK], [PAD] and [MASK]; pass the model's own vocab.txt or its tokenizer.json"
        ) from None


def _from_json(path: Path) -> Tokenizer:
    try:
        return Tokenizer.from_file(str(path))
    except Exception as err:  # noqa: BLE001 - the tokenizers library raises a plain Exception
        raise BadInput(
            f"{path} is not a tokenizer.json ({err}); pass the file a tokenizers or transformers save_pretrained "
            "wrote, a vocab.txt or a model directory"
        ) from None


def _from_directory(directory: Path, lowercase: bool | None) -> Tokenizer:
    if (directory / "tokenizer.json").exists():
        return _from_json(directory / "tokenizer.json")
    if (directory / "vocab.txt").exists():
        return _from_vocab(directory / "vocab.txt", lowercase)
    raise InputNotFound(
        f"{directory} has neither tokenizer.json nor vocab.txt; save the tokenizer with save_pretrained"
    )


def _hub_cache_dir(name: str) -> Path | None:
    hub = Path(
        os.environ.get("HF_HUB_CACHE") or Path(os.environ.get("HF_HOME", Path.home() / ".cache/huggingface")) / "hub"
    )
    snapshots = hub / f"models--{name.replace('/', '--')}" / "snapshots"
    if not snapshots.is_dir():
        return None
    for snapshot in sorted(snapshots.iterdir()):
        if (snapshot / "tokenizer.json").exists() or (snapshot / "vocab.txt").exists():
            return snapshot
    return None


def _raw_load(spec: str, lowercase: bool | None) -> Tokenizer:
    path = Path(spec)
    if path.is_dir():
        return _from_directory(path, lowercase)
    if path.is_file():
        if path.suffix == ".json":
            return _from_json(path)
        if path.suffix == ".txt":
            return _from_vocab(path, lowercase)
        raise InputNotFound(f"{path}: expected a tokenizer.json, a vocab.txt or a model directory")
    if _HUB_NAME.match(spec) and not spec.endswith((".json", ".txt")):
        cached = _hub_cache_dir(spec)
        if cached is not None:
            return _from_directory(cached, lowercase)
        raise InputNotFound(
            f"tokenizer {spec!r} is not a local path and is not in the Hugging Face cache; "
            "factrace never downloads: pass a tokenizer.json, a vocab.txt or a local model directory"
        )
    raise InputNotFound(f"tokenizer {spec!r} not found")


def tokenizer_name(spec: str) -> str:
    remote = not storage.is_local(spec)
    path = PurePosixPath(urlsplit(spec).path) if remote else Path(spec)
    stem = path.name if (storage.is_dir(spec) if remote else path.is_dir()) or not path.suffix else path.stem
    if stem in ("tokenizer", "vocab"):
        stem = path.parent.name if remote else path.resolve().parent.name
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-").lower() or "tokenizer"


_LOADED: dict[tuple, LoadedTokenizer] = {}


def _file_state(spec: str) -> tuple | None:
    """What says a local tokenizer file or folder is unchanged (paths, times, sizes); None for anything else."""
    path = Path(spec)
    files = [path] if path.is_file() else sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else []
    if not files:
        return None
    return tuple((str(f.resolve()), f.stat().st_mtime_ns, f.stat().st_size) for f in files)


def load_tokenizer(spec: str, lowercase: bool | None = None) -> LoadedTokenizer:
    """Load for encoding without special tokens, truncation or padding; id = name + hash of its JSON. A file or
    folder on a store is copied to local disk first (the tokenizers library reads local files). A local one is
    loaded once per process while its files stay unchanged: an update loads it for every segment step."""
    state = _file_state(spec) if storage.is_local(spec) else None
    key = (spec, lowercase, state)
    if state is not None and key in _LOADED:
        return _LOADED[key]
    loaded = _load(spec, lowercase)
    if state is not None:
        _LOADED[key] = loaded
    return loaded


def _load(spec: str, lowercase: bool | None) -> LoadedTokenizer:
    local = spec
    if not storage.is_local(spec):
        local = str(storage.local_tree(spec) if storage.is_dir(spec) else storage.local_copy(spec))
    tokenizer = _raw_load(local, lowercase)
    tokenizer.no_truncation()
    tokenizer.no_padding()
    digest = hashlib.sha1(tokenizer.to_str().encode("utf-8")).hexdigest()[:10]
    return LoadedTokenizer(tokenizer, f"{tokenizer_name(spec)}-{digest}", spec)


def load_stored(path: str | Path) -> Tokenizer:
    """Load a tokenizer copy the warehouse keeps (exactly the JSON that was hashed), on any store."""
    tokenizer = Tokenizer.from_str(storage.read_text(str(path)))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


_ENCODING_PARTS = ("model", "normalizer", "pre_tokenizer")


def same_encoding(json_a: str, json_b: str) -> bool:
    """Whether two tokenizer JSONs give the same ids for text encoded without special tokens: same
    vocabulary and algorithm, normalizer, pre-tokenizer and non-special added tokens. Post-processor,
    decoder, padding, truncation and special added tokens may differ: a model's save_pretrained adds
    its [CLS]/[SEP] template and lists [CLS], [MASK], ... as added tokens, which only match their own
    literal strings."""
    a, b = json.loads(json_a), json.loads(json_b)
    return all(a.get(part) == b.get(part) for part in _ENCODING_PARTS) and _plain_added(a) == _plain_added(b)


def _plain_added(tokenizer: dict) -> list:
    return sorted((t["id"], t["content"]) for t in tokenizer.get("added_tokens") or [] if not t.get("special"))
