"""One declarative adapter per model family: what differs between BERT and XLM-R, written once.

Nothing else in ``probing`` asks which family a model is; it reads these fields.
"""

from __future__ import annotations

from dataclasses import dataclass

from tracer.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Family:
    name: str
    model_types: tuple[str, ...]
    encoder: str  # attribute path of the encoder layers, "{i}" = layer index
    ffn_activation: str  # module whose output is the FFN activation after the nonlinearity
    lm_head: str  # module mapping hidden states to vocabulary logits
    bare_marker: str | None  # SentencePiece's lone word marker, dropped from gold and predictions
    position_offset: int = 0  # position ids the model reserves (RoBERTa counts from padding_idx + 1)


BERT = Family(
    name="bert",
    model_types=("bert",),
    encoder="bert.encoder.layer.{i}",
    ffn_activation="bert.encoder.layer.{i}.intermediate",
    lm_head="cls",
    bare_marker=None,
)

XLM_ROBERTA = Family(
    name="xlm-roberta",
    model_types=("xlm-roberta", "roberta"),
    encoder="roberta.encoder.layer.{i}",
    ffn_activation="roberta.encoder.layer.{i}.intermediate",
    lm_head="lm_head",
    bare_marker="▁",
    position_offset=2,
)

FAMILIES = (BERT, XLM_ROBERTA)


def family_for(model_type: str) -> Family:
    for family in FAMILIES:
        if model_type in family.model_types:
            return family
    known = ", ".join(t for f in FAMILIES for t in f.model_types)
    raise ConfigError(f"model type {model_type!r} is not supported; probing supports masked LMs of type {known}")
