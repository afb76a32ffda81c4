"""The classify stage: ``fact_presence`` × ``predictions`` × ``neurons`` → ``fact_classes``,
``language_stats`` and ``language_pairs``, for one model and protocol.

Two rounds of tasks through the same runner. *Similarity*, one task per language with neurons:
the best same-fact Jaccard of each of its facts against every other language, and its share of the
null distribution (different facts, same relation, same language pair). The driver pools the null
and takes its percentile as the threshold. *Classify*, one task per (dump, language): joins the
language's tables, applies the rules (``tracer.classify.patterns``) and counts the statistics.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from schemas.arrow import arrow_schema
from schemas.tables import (
    FACT_CLASSES,
    FACT_PRESENCE,
    FACTS,
    LANGUAGE_PAIRS,
    LANGUAGE_STATS,
    NEURONS,
    PREDICTIONS,
    QUARANTINE,
)
from tracer.classify.absent import NAMING_CUE_RELATIONS
from tracer.classify.inputs import corpus_size, stored_tokenizer
from tracer.classify.neuron_sets import NeuronSets
from tracer.classify.patterns import classify_language
from tracer.classify.similarity import NULL_PAIRS_PER_RELATION, best_matches, null_sample, percentile_threshold
from tracer.classify.stats import correlations, language_row, pair_rows
from tracer.config import option
from tracer.errors import ConfigError, InputNotFound
from tracer.matching.language import MODES
from tracer.records import Quarantined
from tracer.runs import RunRecord, new_run_id
from tracer.stages.common import Stage, write_quarantine
from tracer.stages.facts import NO_DUMP
from tracer.warehouse import Warehouse, write_table

log = logging.getLogger("factrace.classify")
STAGE = "classify"
SIMILARITY = "_similarity"
PROTOCOLS = ("full-match", "candidates")


@dataclass
class ClassifyConfig:
    warehouse: str = option(help="warehouse directory (reads the probe's and the trace's tables)")
    model: str = option(
        help="probed model: its id in the warehouse (`predictions.model`) or its directory (the id is computed "
        "as the probe does)"
    )
    protocol: str = option("full-match", help="whose verdict counts as correct", choices=PROTOCOLS)
    match_mode: str = option("tokens", help="which fact_presence decides present/absent", choices=MODES)
    presence_tokenizer: str = option(
        "", help="fact_presence tokenizer id (default: the only one, else the one matching the model's tokenizer)"
    )
    dumps: list[str] = option([], help="only these dump labels (default: every dump with fact_presence)")
    percentile: float = option(99.0, help="percentile of the null Jaccards that cross-lingual similarity must exceed")
    naming_cues: list[str] = option(list(NAMING_CUE_RELATIONS), help="relations whose objects are naming cues")
    null_pairs: int = option(NULL_PAIRS_PER_RELATION, help="null pairs sampled per relation and language pair")

    def __post_init__(self) -> None:
        if not 0 < self.percentile <= 100:
            raise ConfigError(f"--percentile must be in (0, 100], got {self.percentile}")
        if self.null_pairs < 1:
            raise ConfigError(f"--null-pairs must be at least 1, got {self.null_pairs}")


def _read(files: list[str], columns: list[str] | None = None) -> pa.Table | None:
    tables = [pq.read_table(f, columns=columns) for f in files]
    return pa.concat_tables(tables) if tables else None


def similarity_task(task: dict) -> dict:
    """Executor side: one language's best matches (saved as a partial) and its share of the null."""
    columns = ["uuid", "relation", "neuron_ids"]
    sets = {lang: NeuronSets.from_table(lang, _read(files, columns)) for lang, files in task["neuron_files"].items()}
    mine = sets[task["lang"]]
    others = [s for lang, s in sets.items() if lang != task["lang"]]
    found = best_matches(mine, others)
    null: Counter = Counter()
    for other in others:
        if other.lang > mine.lang:  # each unordered pair once
            null.update(null_sample(mine, other, task["null_pairs"]))
    partial = pa.table(
        {
            "uuid": pa.array(mine.uuids.tolist(), pa.string()),
            "similarity": pa.array(found.best, pa.float64()),
            "similar_lang": pa.array(found.best_lang.tolist(), pa.string()),
        }
    )
    write_table(Path(task["partial_file"]), partial)
    return {
        "lang": task["lang"],
        "partial_file": task["partial_file"],
        "facts": len(mine),
        "pairs": {other: [p.pairs, p.jaccard_sum] for other, p in found.pairs.items()},
        "null": [[i, u, n] for (i, u), n in sorted(null.items())],
    }


def classify_task(task: dict) -> dict:
    """Executor side: one (dump, language) → its ``fact_classes`` file and its ``language_stats`` row."""
    wh = Warehouse(task["warehouse"])
    lang = task["lang"]
    predictions = _read(task["prediction_files"], ["uuid", "relation", "correct"])
    facts = _read(task["fact_files"], ["uuid", "subject_label", "object_label"])
    known = pc.is_in(predictions.column("uuid"), facts.column("uuid"))
    missing = predictions.filter(pc.invert(known)).column("uuid").to_pylist()
    predictions = predictions.filter(known)
    presence = _read(task["presence_files"], ["uuid", "present", "cooccurrence_segments", "evidence"])
    empty_partial = pa.table({"uuid": pa.array([], pa.string()), "similarity": [], "similar_lang": []})
    similarity = _read([task["partial_file"]]) if task["partial_file"] else empty_partial
    tokenize = stored_tokenizer(task["model_tokenizer"])
    classes = classify_language(
        lang,
        predictions,
        facts,
        presence if task["traced"] else None,
        similarity,
        set(similarity.column("uuid").to_pylist()),
        task["threshold"],
        tokenize,
        task["naming_cues"],
    )
    write_table(Path(task["classes_dir"]) / "part-00000.parquet", classes)
    objects = facts.filter(pc.is_in(facts.column("uuid"), predictions.column("uuid"))).column("object_label")
    lengths = [len(tokenize(label)) for label in objects.to_pylist()]
    corpus = corpus_size(wh, task["dump"], lang, task["presence_tokenizer"] if task["traced"] else None)
    row = language_row(lang, classes, corpus, float(np.mean(lengths)) if lengths else 0.0)
    return {"dump": task["dump"], "lang": lang, "stats": row, "missing": missing, "source": task["source"]}


class ClassifyStage(Stage):
    config: ClassifyConfig

    def run(self) -> dict:
        cfg, wh = self.config, self.warehouse
        model, tokenizer_file = self._model()
        langs = [v["lang"] for v in wh.partitions(PREDICTIONS, model=model, protocol=cfg.protocol)]
        if not langs:
            probed = sorted({v["model"] + "/" + v["protocol"] for v in wh.partitions(PREDICTIONS)})
            raise InputNotFound(
                f"no predictions of model {model} ({cfg.protocol}) in {wh.root}; probed: {', '.join(probed) or 'none'}"
                f" — run 'factrace probe --protocol {cfg.protocol}' first"
            )
        presence_tokenizer = self._presence_tokenizer(tokenizer_file)
        dumps = self._dumps(presence_tokenizer)
        run = RunRecord(
            STAGE,
            new_run_id(STAGE),
            {**dataclasses.asdict(cfg), "model_id": model, "presence_tokenizer": presence_tokenizer},
        )
        try:
            return self._run(run, model, tokenizer_file, langs, presence_tokenizer, dumps)
        finally:
            wh.discard_staging(run.run_id)

    def _model(self) -> tuple[str, Path]:
        """The model id and the tokenizer file its labels are tokenized with."""
        cfg, wh = self.config, self.warehouse
        if Path(cfg.model).is_dir():
            from probing.model_files import model_id
            from tracer.tokenization.loading import load_tokenizer

            model = model_id(Path(cfg.model))
            return model, wh.keep_tokenizer(model, load_tokenizer(cfg.model).to_json())
        if not wh.tokenizer_file(cfg.model).exists():
            raise InputNotFound(
                f"{wh.root} keeps no tokenizer for model {cfg.model!r} (the probe stores it from this version on): "
                "pass --model DIR, the model's directory"
            )
        return cfg.model, wh.tokenizer_file(cfg.model)

    def _presence_tokenizer(self, model_tokenizer: Path) -> str | None:
        cfg, wh = self.config, self.warehouse
        found = sorted({v["tokenizer"] for v in wh.partitions(FACT_PRESENCE, match_mode=cfg.match_mode)})
        if cfg.presence_tokenizer:
            if cfg.presence_tokenizer not in found:
                raise InputNotFound(
                    f"no {cfg.match_mode} fact_presence for tokenizer {cfg.presence_tokenizer}; "
                    f"there is for: {', '.join(found) or 'none'}"
                )
            return cfg.presence_tokenizer
        if len(found) <= 1:
            return found[0] if found else None
        from tracer.tokenization.loading import load_stored

        digest = load_stored(model_tokenizer).to_str()
        same = [
            t for t in found if wh.tokenizer_file(t).exists() and load_stored(wh.tokenizer_file(t)).to_str() == digest
        ]
        if len(same) == 1:
            return same[0]
        raise ConfigError(
            f"{cfg.match_mode} fact_presence exists for {len(found)} tokenizers ({', '.join(found)}) and none is "
            "the model's own: pick one with --presence-tokenizer"
        )

    def _dumps(self, presence_tokenizer: str | None) -> list[str]:
        cfg, wh = self.config, self.warehouse
        if presence_tokenizer is None:
            return [NO_DUMP]
        dumps = sorted(
            {v["dump"] for v in wh.partitions(FACT_PRESENCE, match_mode=cfg.match_mode, tokenizer=presence_tokenizer)}
        )
        unknown = sorted(set(cfg.dumps) - set(dumps))
        if unknown:
            raise InputNotFound(f"no fact_presence for dumps {unknown}; there is for {', '.join(dumps)}")
        return [d for d in dumps if not cfg.dumps or d in cfg.dumps]

    def _run(
        self,
        run: RunRecord,
        model: str,
        tokenizer_file: Path,
        langs: list[str],
        presence_tokenizer: str | None,
        dumps: list[str],
    ) -> dict:
        cfg, wh = self.config, self.warehouse
        pred = {"model": model, "protocol": cfg.protocol}
        neuron_files = {
            lang: [str(p) for p in wh.files(NEURONS, {**pred, "lang": lang})]
            for lang in langs
            if wh.files(NEURONS, {**pred, "lang": lang})
        }
        partials = wh.staging_dir(run.run_id) / SIMILARITY
        similarity_tasks = [
            {
                "lang": lang,
                "neuron_files": neuron_files,
                "null_pairs": cfg.null_pairs,
                "partial_file": str(partials / f"{lang}.parquet"),
            }
            for lang in sorted(neuron_files)
        ]
        log.info("classify: model %s, %d language(s), %d with neurons", model, len(langs), len(neuron_files))
        similar = self.runner.map(similarity_task, similarity_tasks, "classify: neuron similarity")
        null: Counter = Counter()
        for result in similar:
            null.update({(i, u): n for i, u, n in result["null"]})
        threshold = percentile_threshold(null, cfg.percentile)
        partial_of = {r["lang"]: r["partial_file"] for r in similar}
        tasks = []
        for dump in dumps:
            for lang in langs:
                presence = {"dump": dump, "lang": lang, "match_mode": cfg.match_mode, "tokenizer": presence_tokenizer}
                presence_files = wh.files(FACT_PRESENCE, presence) if presence_tokenizer else []
                out = {"dump": dump, **pred, "lang": lang}
                tasks.append(
                    {
                        "warehouse": str(wh.root),
                        "dump": dump,
                        "lang": lang,
                        "source": str(wh.partition_dir(PREDICTIONS, {**pred, "lang": lang}).relative_to(wh.root)),
                        "prediction_files": [str(p) for p in wh.files(PREDICTIONS, {**pred, "lang": lang})],
                        "fact_files": [str(p) for p in wh.files(FACTS, {"lang": lang})],
                        "presence_files": [str(p) for p in presence_files],
                        "traced": bool(presence_files),
                        "presence_tokenizer": presence_tokenizer,
                        "partial_file": partial_of.get(lang),
                        "model_tokenizer": str(tokenizer_file),
                        "threshold": threshold,
                        "naming_cues": cfg.naming_cues,
                        "classes_dir": str(wh.staged_partition(run.run_id, FACT_CLASSES, out)),
                    }
                )
        classified = self.runner.map(classify_task, tasks, "classify: patterns")
        return self._publish(run, model, langs, dumps, similar, classified, null, threshold)

    def _publish(
        self,
        run: RunRecord,
        model: str,
        langs: list[str],
        dumps: list[str],
        similar: list[dict],
        classified: list[dict],
        null: Counter,
        threshold: float,
    ) -> dict:
        cfg, wh = self.config, self.warehouse
        pred = {"model": model, "protocol": cfg.protocol}
        correct_sets = {
            lang: set(
                wh.read(PREDICTIONS, ["uuid", "correct"], **pred, lang=lang)
                .filter(pc.field("correct"))
                .column("uuid")
                .to_pylist()
            )
            for lang in langs
        }
        neuron_pairs = {(r["lang"], other): tuple(v) for r in similar for other, v in r["pairs"].items()}
        pairs = pair_rows(correct_sets, neuron_pairs)
        by_dump: dict[str, list[dict]] = defaultdict(list)
        for result in classified:
            by_dump[result["dump"]].append(result["stats"])
        quarantined: Counter = Counter()
        missing = [
            Quarantined(r["source"], -1, "fact_missing", "predicted fact is no longer in facts: probe again", u)
            for r in classified
            if r["dump"] == dumps[0]
            for u in r["missing"]
        ]
        scope = {"dump": NO_DUMP, "stage": STAGE, "scope": f"{model}.{cfg.protocol}"}
        if missing:
            path = wh.staged_partition(run.run_id, QUARANTINE, scope) / "part-00000.parquet"
            quarantined.update(write_quarantine(path, missing, run.run_id))
        published = []
        for dump in dumps:
            values = {"dump": dump, **pred}
            stats = sorted(by_dump[dump], key=lambda s: s["lang"])
            for table, rows in ((LANGUAGE_STATS, stats), (LANGUAGE_PAIRS, pairs)):
                path = wh.staged_partition(run.run_id, table, values) / "part-00000.parquet"
                write_table(path, pa.Table.from_pylist(rows, schema=arrow_schema(table)))
            for lang in langs:
                wh.publish(run.run_id, FACT_CLASSES, {**values, "lang": lang})
                published.append({**values, "lang": lang})
            wh.publish(run.run_id, LANGUAGE_STATS, values)
            wh.publish(run.run_id, LANGUAGE_PAIRS, values)
        wh.publish(run.run_id, QUARANTINE, scope)
        return self._finish(run, model, dumps, by_dump, null, threshold, quarantined, published, correct_sets)

    def _finish(
        self,
        run: RunRecord,
        model: str,
        dumps: list[str],
        by_dump: dict[str, list[dict]],
        null: Counter,
        threshold: float,
        quarantined: Counter,
        published: list[dict],
        correct_sets: dict[str, set[str]],
    ) -> dict:
        cfg = self.config
        all_stats = [s for d in dumps for s in by_dump[d]]
        totals = Counter()
        for s in all_stats:
            for key in ("queries", "correct", "language_independent", "shared", "transferred", "undecided"):
                totals[key] += s[key]
        run.records_quarantined = sum(quarantined.values())
        run.records_out = totals["queries"] // len(dumps)  # every dump classifies the same predictions
        run.records_in = run.records_out + run.records_quarantined
        run.outputs = {"fact_classes": ["/".join(f"{k}={v}" for k, v in p.items()) for p in published]}
        run.extra = {
            "model": model,
            "threshold": threshold,
            "percentile": cfg.percentile,
            "null_pairs": sum(null.values()),
            "null_histogram": {f"{i}/{u}": n for (i, u), n in sorted(null.items())},
            "correlations": {d: correlations(sorted(by_dump[d], key=lambda s: s["lang"])) for d in dumps},
            "totals": dict(totals),
            "fact_classes_rows": totals["queries"],
            "correct_languages": {lang: len(s) for lang, s in sorted(correct_sets.items())},
        }
        message = (
            f"classify: model {model} ({cfg.protocol}), {len(correct_sets)} language(s) × {len(dumps)} dump(s): "
            f"{totals['correct']:,} of {totals['queries']:,} facts correct; "
            f"{totals['language_independent']:,} language-independent, {totals['shared']:,} shared, "
            f"{totals['transferred']:,} transferred, {totals['undecided']:,} undecided; "
            f"threshold {threshold:.4f} (p{cfg.percentile:g} of {sum(null.values()):,} null pairs)"
        )
        return self.finish(run, message, published)
