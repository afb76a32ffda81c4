"""LRP2 (Xu et al. 2023, "Language Representation Projection"): language vectors, and the two projections
applied as forward hooks during probing.

``v_l^i`` is the mean hidden state of language ``l`` at layer ``i`` (``hidden_states[i]``, 0 = the
embeddings): per sentence the mean over its tokens, then the mean over sentences. LIRP after encoder
layer ``i`` maps a language-``l`` representation to an English-like one, ``h ← h − v_l^i + v_en^i``;
LSRP after a later layer ``j`` maps it back, ``h ← h − v_en^j + v_l^j``. Every token of the example is
shifted (DESIGN.md: "applied to every position"). English examples, and any example without a language, are left
as they are: the shift is per example, so a batch may mix languages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import torch

from probing.batching import padded_batches
from probing.hooks import forward_hooks
from probing.models import LoadedModel

ENGLISH = "en"


@dataclass(frozen=True, slots=True)
class Pooling:
    """How a sentence's tokens are averaged: the choice is recorded with every vector."""

    special_tokens: bool = False  # [CLS]/[SEP] (<s>/</s>) pooled too; padding never is

    @property
    def name(self) -> str:
        return "mean-tokens-with-special" if self.special_tokens else "mean-tokens-no-special"


def language_vectors(
    loaded: LoadedModel, id_lists: Sequence[Sequence[int]], pooling: Pooling = Pooling(), max_tokens: int = 4096
) -> tuple[torch.Tensor, int]:
    """``([layers + 1, hidden] float64 on the CPU, tokens pooled)``: the mean over sentences of each sentence's
    mean hidden state, per layer. Sentences are id lists with the model's special tokens; one with no token
    left to pool (only special tokens) is skipped."""
    model, tok = loaded.model, loaded.tokenizer
    special = set(tok.all_special_ids)
    total: torch.Tensor | None = None
    sentences = tokens = 0
    with torch.inference_mode():
        for _, ids, attention in padded_batches(id_lists, tok.pad_token_id, max_tokens, loaded.device):
            keep = attention.bool()
            if not pooling.special_tokens:
                keep &= ~torch.isin(ids, torch.tensor(sorted(special), device=ids.device))
            counts = keep.sum(dim=1)  # [b]
            used = counts > 0
            out = model.base_model(input_ids=ids, attention_mask=attention, output_hidden_states=True)
            weights = keep.to(torch.float64) / counts.clamp(min=1).to(torch.float64).unsqueeze(1)  # [b, t]
            # per layer: sum over the batch of each sentence's mean, accumulated in fp64
            means = torch.stack([torch.einsum("bt,bth->h", weights, h.to(torch.float64)) for h in out.hidden_states])
            total = means if total is None else total + means
            sentences += int(used.sum())
            tokens += int(counts.sum())
    if total is None or sentences == 0:
        raise ValueError("no sentence with a token to pool")
    return (total / sentences).cpu(), tokens


@dataclass(frozen=True, slots=True)
class Projection:
    """LIRP after encoder layer ``lirp`` and LSRP after layer ``lsrp`` (1-based, ``hidden_states`` numbering)."""

    lirp: int
    lsrp: int

    def check(self, layers: int) -> None:
        if not 1 <= self.lirp < self.lsrp <= layers:
            raise ValueError(
                f"LRP2 layers {self.lirp},{self.lsrp}: need 1 <= i < j <= {layers} (the model's encoder layers)"
            )

    @property
    def intervention(self) -> str:
        return f"lrp2_{self.lirp}_{self.lsrp}"


class Shifts:
    """The per-example shifts of the current batch at the two layers; ``set`` before each forward pass."""

    def __init__(self, vectors: Mapping[str, torch.Tensor], projection: Projection, device: torch.device) -> None:
        if ENGLISH not in vectors:
            raise ValueError("LRP2 needs English language vectors (v_en)")
        self.projection = projection
        self.vectors = {lang: v.to(device=device, dtype=torch.float32) for lang, v in vectors.items()}
        self.lirp: torch.Tensor | None = None  # [b, hidden]
        self.lsrp: torch.Tensor | None = None

    def set(self, langs: Sequence[str | None]) -> None:
        """Shifts for a batch whose examples are in these languages (None or English: no shift)."""
        en = self.vectors[ENGLISH]
        i, j = self.projection.lirp, self.projection.lsrp
        zero = torch.zeros_like(en[0])
        missing = sorted({lang for lang in langs if lang not in (None, ENGLISH) and lang not in self.vectors})
        if missing:
            raise ValueError(f"no language vectors for {', '.join(missing)}")
        self.lirp = torch.stack([zero if lang in (None, ENGLISH) else en[i] - self.vectors[lang][i] for lang in langs])
        self.lsrp = torch.stack([zero if lang in (None, ENGLISH) else self.vectors[lang][j] - en[j] for lang in langs])


def _shifted(output: torch.Tensor | tuple, delta: torch.Tensor) -> torch.Tensor | tuple:
    """A layer's output with ``delta[b]`` added to every token of example ``b`` (tensor or tuple outputs)."""
    if isinstance(output, tuple):
        return (_shifted(output[0], delta), *output[1:])
    return output + delta.to(output.dtype).unsqueeze(1)


@contextmanager
def projected(loaded: LoadedModel, shifts: Shifts) -> Iterator[Shifts]:
    """Run the block with LIRP and LSRP hooked in: one hook on each of the two encoder layers."""
    shifts.projection.check(loaded.model.config.num_hidden_layers)
    path = loaded.family.encoder

    def at(which: str) -> Callable[[torch.nn.Module, tuple, torch.Tensor | tuple], torch.Tensor | tuple]:
        def hook(_module: torch.nn.Module, _inputs: tuple, output: torch.Tensor | tuple) -> torch.Tensor | tuple:
            delta = getattr(shifts, which)
            if delta is None:
                raise RuntimeError("LRP2 shifts were not set for this batch")
            return _shifted(output, delta)

        return hook

    hooks = {
        path.format(i=shifts.projection.lirp - 1): at("lirp"),
        path.format(i=shifts.projection.lsrp - 1): at("lsrp"),
    }
    with forward_hooks(loaded.model, hooks):
        yield shifts


def read_vectors(files: Mapping[str, str]) -> dict[str, torch.Tensor]:
    """``{lang: [layers + 1, hidden]}`` from each language's ``language_vectors`` file (any store)."""
    import pyarrow.parquet as pq

    from tracer import storage

    out = {}
    for lang, path in files.items():
        table = pq.read_table(storage.open_input(path), columns=["layer", "vector"]).sort_by("layer")
        out[lang] = torch.tensor(table.column("vector").to_pylist(), dtype=torch.float32)
    return out


@contextmanager
def projected_language(loaded: LoadedModel, projection: Projection, vectors: Mapping[str, torch.Tensor], lang: str,
                       twins: Sequence[LoadedModel] = ()) -> Iterator[None]:  # fmt: skip
    """Every query of the block is in ``lang``: LRP2's hooks on the model (and on ``twins``, other copies that run
    the same queries, such as the fp32 one that captures neurons); nothing for English."""
    if lang == ENGLISH:
        yield
        return
    with ExitStack() as stack:
        for model in {id(m): m for m in (loaded, *twins)}.values():
            shifts = Shifts(vectors, projection, model.device)
            shifts.set([lang])  # one row: broadcast over every batch of this language
            stack.enter_context(projected(model, shifts))
        yield
