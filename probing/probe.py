"""Probe one language: prompts → one forward pass per query → protocol results → PROBELESS neurons.

Both protocols read the same forward passes (full-match needs the argmax at every mask, candidates
the log-probs of the same-length candidates), so asking for both costs one pass, not two.

Neurons are taken at the query that made a fact correct: the matched k for full-match (the smallest,
or under ``--rules fact-cl`` the last, as the authors' code), the gold's own length for candidates.
PROBELESS runs per (language, relation) over its correct facts; a relation with a single correct fact
has no other class to differ from and gets no neuron rows.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pyarrow as pa
import torch

from probing.candidates import CandidateResult, rank_candidates
from probing.full_match import FullMatch, full_match
from probing.models import LoadedModel
from probing.neurons import mask_activations
from probing.passes import CandidateIndex, query_units, run_queries
from probing.probeless import TOP_K, probeless_top
from probing.queries import Prompt, Unusable, build_prompts, candidate_pools
from schemas.arrow import arrow_schema
from schemas.tables import NEURONS, PREDICTIONS
from schemas.values import CANDIDATES, FULL_MATCH

Result = FullMatch | CandidateResult


@dataclass
class LanguageProbe:
    """What probing one language produced: a predictions (and neurons) table per protocol."""

    predictions: dict[str, pa.Table]
    neurons: dict[str, pa.Table]
    unusable: list[Unusable]
    queries: int
    tokens: int
    correct: dict[str, dict[str, list[int]]]  # protocol → relation → [correct, probed]
    singleton_relations: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def prepare(loaded: LoadedModel, facts: Sequence[dict]) -> tuple[list[Prompt], list[Unusable]]:
    longest = loaded.model.config.max_position_embeddings - loaded.family.position_offset
    return build_prompts(loaded.tokenizer, loaded.family, facts, longest)


def count_queries(prompts: Sequence[Prompt]) -> int:
    return len(query_units(prompts))


def probe_language(
    loaded: LoadedModel,
    prompts: Sequence[Prompt],
    unusable: list[Unusable],
    protocols: Sequence[str],
    with_neurons: bool,
    max_tokens: int,
    top_k: int = TOP_K,
    progress: Callable[[int], None] | None = None,
    last_match: bool = False,
    exact_neurons: bool = True,
) -> LanguageProbe:
    started = time.perf_counter()
    index = CandidateIndex.build(candidate_pools(prompts)) if CANDIDATES in protocols else None
    results = run_queries(loaded, prompts, index, max_tokens, progress)
    forward = time.perf_counter()
    marker = None
    if loaded.family.bare_marker is not None:
        marker = loaded.tokenizer.convert_tokens_to_ids(loaded.family.bare_marker)
    by_protocol: dict[str, list[Result]] = {}
    if FULL_MATCH in protocols:
        by_protocol[FULL_MATCH] = full_match(prompts, results, marker, last_match)
    if CANDIDATES in protocols and index is not None:
        by_protocol[CANDIDATES] = rank_candidates(prompts, results, index)
    probe = LanguageProbe(
        predictions={p: predictions_table(loaded, rs) for p, rs in by_protocol.items()},
        neurons={},
        unusable=unusable,
        queries=results.queries,
        tokens=results.tokens,
        correct={p: correct_counts(rs) for p, rs in by_protocol.items()},
    )
    protocols_done = time.perf_counter()
    if with_neurons:
        probe.neurons, probe.singleton_relations = neuron_tables(
            loaded, prompts, by_protocol, max_tokens, top_k, exact_neurons
        )
    probe.seconds = {
        "forward": forward - started,
        "protocols": protocols_done - forward,
        "neurons": time.perf_counter() - protocols_done,
    }
    return probe


def predictions_table(loaded: LoadedModel, results: Sequence[Result]) -> pa.Table:
    texts = loaded.tokenizer.batch_decode([r.predicted_ids for r in results]) if results else []
    return pa.Table.from_pydict(
        {
            "uuid": [r.uuid for r in results],
            "relation": [r.relation for r in results],
            "n_masks_tried": [r.n_masks_tried for r in results],
            "matched_masks": [getattr(r, "matched_masks", None) for r in results],
            "predicted_ids": [r.predicted_ids for r in results],
            "predicted_text": [t.strip() for t in texts],
            "correct": [r.correct for r in results],
            "gold_rank": [getattr(r, "gold_rank", None) for r in results],
            "gold_log_prob": [getattr(r, "gold_log_prob", None) for r in results],
        },
        schema=arrow_schema(PREDICTIONS),
    )


def correct_counts(results: Sequence[Result]) -> dict[str, list[int]]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in results:
        counts[r.relation][0] += r.correct
        counts[r.relation][1] += 1
    return dict(sorted(counts.items()))


def _neuron_query(prompt: Prompt, result: Result) -> int:
    """The k of the query whose activations stand for this correct fact."""
    return result.matched_masks if isinstance(result, FullMatch) else len(prompt.gold_ids)  # type: ignore[return-value]


def neuron_tables(
    loaded: LoadedModel,
    prompts: Sequence[Prompt],
    by_protocol: dict[str, list[Result]],
    max_tokens: int,
    top_k: int,
    exact: bool = True,
) -> tuple[dict[str, pa.Table], dict[str, int]]:
    """Per protocol, PROBELESS top neurons of every correct fact, one relation at a time."""
    rows = {p: {"uuid": [], "relation": [], "neuron_ids": [], "scores": []} for p in by_protocol}
    singletons: Counter = Counter()
    relations = sorted({prompt.relation for prompt in prompts})
    members = defaultdict(list)  # relation → prompt numbers, in prompt order
    for p, prompt in enumerate(prompts):
        members[prompt.relation].append(p)
    for relation in relations:
        wanted: dict[str, list[tuple[int, int]]] = {}
        for protocol, results in by_protocol.items():
            units = [(p, _neuron_query(prompts[p], results[p])) for p in members[relation] if results[p].correct]
            if len(units) == 1:
                singletons[protocol] += 1
            if len(units) >= 2:
                wanted[protocol] = units
        needed = sorted({unit for units in wanted.values() for unit in units})
        if not needed:
            continue
        activations = mask_activations(loaded, [prompts[p].ids(k) for p, k in needed], max_tokens, exact)
        row_of = {unit: i for i, unit in enumerate(needed)}
        for protocol, units in wanted.items():
            q = activations[[row_of[u] for u in units]]
            ids, scores = probeless_top(q, top_k)
            out = rows[protocol]
            out["uuid"].extend(prompts[p].uuid for p, _ in units)
            out["relation"].extend([relation] * len(units))
            out["neuron_ids"].extend(ids.to(torch.int32).cpu().tolist())
            out["scores"].extend(scores.float().cpu().tolist())
    schema = arrow_schema(NEURONS)
    return {p: pa.Table.from_pydict(r, schema=schema) for p, r in rows.items()}, dict(singletons)
