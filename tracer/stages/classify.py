"""The classify stage: ``fact_presence`` × ``predictions`` × ``neurons`` → ``fact_classes``,
``language_stats`` and ``language_pairs``, for one model, protocol, intervention and rule set.

Two rounds of tasks through the same runner. *Similarity*, one task per language with neurons: the
best same-fact Jaccard of each of its facts against every other language, and its p-value under the
permutation null of that max (``tracer.classify.similarity``). *Classify*, one task per (dump,
language): joins the language's tables, applies the rules (``tracer.classify.patterns``) and counts
the statistics.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from schemas.arrow import arrow_schema
from schemas.tables import (
    FACT_CLASSES,
    FACT_PRESENCE,
    FACTS,
    INTERVENTION_EFFECTS,
    LANGUAGE_PAIRS,
    LANGUAGE_STATS,
    NEURONS,
    PREDICTIONS,
    QUARANTINE,
)
from schemas.values import ENGLISH_LANG, FULL_MATCH, NO_INTERVENTION, PROTOCOLS
from tracer import storage
from tracer.classify.absent import DEFAULT, FACT_CL, NAMING_CUE_RELATIONS, RULES
from tracer.classify.effects import intervention_effects
from tracer.classify.inputs import corpus_size
from tracer.classify.label_tokens import gold_length, stored_tokenizer
from tracer.classify.neuron_sets import NeuronSets
from tracer.classify.patterns import classify_language
from tracer.classify.similarity import ALPHA, NULL_FACTS, cross_lingual_similarity
from tracer.classify.stats import calibration_summary, correlations, language_row, merge_calibration, pair_rows
from tracer.config import option
from tracer.errors import ConfigError, InputNotFound
from tracer.matching.language import MODES
from tracer.progress import Work
from tracer.records import Quarantined
from tracer.runs import RunRecord
from tracer.stages.common import Stage, StageResult, write_quarantine
from tracer.stages.facts import NO_DUMP
from tracer.stages.tasks import ClassifyDone, ClassifyTask, SimilarityDone, SimilarityTask
from tracer.warehouse import Warehouse, partition_path, write_table

log = logging.getLogger("factrace.classify")
STAGE = "classify"
SIMILARITY = "_similarity"


@dataclass
class ClassifyConfig:
    warehouse: str = option(help="warehouse path or URI (reads the probe's and the trace's tables)")
    model: str = option(
        help="probed model: its id in the warehouse (`predictions.model`) or its directory (the id is computed "
        "as the probe does)"
    )
    protocol: str = option(FULL_MATCH, help="whose verdict counts as correct", choices=PROTOCOLS)
    rules: str = option(
        DEFAULT,
        help="`default`, or `fact-cl` for the authors' rules end to end (presence by fact-cl matching, the "
        "probe's fact-cl rows, their absent-type rule 2); docs/classification.md lists the differences",
        choices=RULES,
    )
    intervention: str = option("none", help="which probe rows to classify: `none`, or an intervention's name")
    match_mode: str = option(
        "",
        help="which fact_presence decides present/absent (default: tokens; fact-cl under --rules fact-cl)",
        choices=MODES,
    )
    presence_tokenizer: str = option(
        "", help="fact_presence tokenizer id (default: the only one, else the one matching the model's tokenizer)"
    )
    dumps: list[str] = option([], help="only these dump labels (default: every dump with fact_presence)")
    alpha: float = option(
        ALPHA, help="significance level of the cross-lingual test (p-value of the best match under the null max)"
    )
    naming_cues: list[str] = option(list(NAMING_CUE_RELATIONS), help="relations whose objects are naming cues")
    null_facts: int = option(
        NULL_FACTS, help="facts per relation and language the null is computed on (all when fewer; exact then)"
    )

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise ConfigError(f"--alpha must be in (0, 1), got {self.alpha}")
        if self.null_facts < 2:
            raise ConfigError(f"--null-facts must be at least 2, got {self.null_facts}")
        if not self.intervention:
            raise ConfigError("--intervention must name one (`none` for the model as it is)")
        if self.match_mode not in ("", *MODES):
            raise ConfigError(f"--match-mode: choose from {', '.join(MODES)}; got {self.match_mode!r}")
        wanted = FACT_CL if self.rules == FACT_CL else "tokens"
        if self.rules == FACT_CL and self.match_mode not in ("", FACT_CL):
            raise ConfigError(
                f"--rules fact-cl decides presence with fact-cl matching; drop --match-mode {self.match_mode}"
            )
        self.match_mode = self.match_mode or wanted

    @property
    def intervened(self) -> bool:
        """Probe rows of an intervention: their effects are counted against the baseline's classes."""
        return self.intervention != NO_INTERVENTION


def _read(files: list[str], columns: list[str] | None = None) -> pa.Table | None:
    tables = [pq.read_table(f, columns=columns) for f in files]
    return pa.concat_tables(tables) if tables else None


def similarity_task(task: SimilarityTask) -> SimilarityDone:
    """Executor side: one language's best matches and their p-values, saved as a partial."""
    columns = ["uuid", "relation", "neuron_ids"]
    sets = {lang: NeuronSets.from_table(lang, _read(files, columns)) for lang, files in task.neuron_files.items()}
    mine = sets[task.lang]
    others = [s for lang, s in sets.items() if lang != task.lang]
    found = cross_lingual_similarity(mine, others, task.null_facts)
    partial = pa.table(
        {
            "uuid": pa.array(mine.uuids.tolist(), pa.string()),
            "similarity": pa.array(found.best, pa.float64()),
            "best_match_lang": pa.array(found.best_lang.tolist(), pa.string()),
            "partners": pa.array(found.partners, pa.int32()),
            "p_value": pa.array(found.p_value, pa.float64()),
        }
    )
    write_table(task.partial_file, partial)
    return SimilarityDone(
        task.lang,
        task.partial_file,
        len(mine),
        {other: (p.pairs, p.jaccard_sum) for other, p in found.pairs.items()},
        calibration_summary(found.partners, found.p_value, task.alpha),
    )


def classify_task(task: ClassifyTask) -> ClassifyDone:
    """Executor side: one (dump, language) → its ``fact_classes`` file and its ``language_stats`` row."""
    wh = Warehouse(task.warehouse)
    lang = task.lang
    predictions = _read(task.prediction_files, ["uuid", "relation", "correct"])
    facts = _read(task.fact_files, ["uuid", "subject_label", "object_label", "object_uri"])
    known = pc.is_in(predictions.column("uuid"), facts.column("uuid"))
    missing = predictions.filter(pc.invert(known)).column("uuid").to_pylist()
    predictions = predictions.filter(known)
    presence = _read(task.presence_files, ["uuid", "present", "cooccurrence_segments", "evidence"])
    empty_partial = pa.table(
        {"uuid": pa.array([], pa.string()), "similarity": [], "best_match_lang": [], "partners": [], "p_value": []}
    )
    similarity = _read([task.partial_file]) if task.partial_file else empty_partial
    tokenize = stored_tokenizer(task.model_tokenizer)
    classes = classify_language(
        lang,
        predictions,
        facts,
        presence if task.traced else None,
        similarity,
        task.alpha,
        tokenize,
        task.naming_cues,
        task.rules,
    )
    write_table(storage.join(task.classes_dir, "part-00000.parquet"), classes)
    objects = facts.filter(pc.is_in(facts.column("uuid"), predictions.column("uuid"))).column("object_label")
    lengths = [gold_length(tokenize(label)) for label in objects.to_pylist()]
    corpus = corpus_size(wh, task.dump, lang, task.presence_tokenizer if task.traced else None)
    row = language_row(lang, classes, corpus, float(np.mean(lengths)) if lengths else 0.0)
    effects = []
    if task.baseline_class_files:
        english = _read(task.english_prediction_files, ["uuid", "correct"])
        known = set(english.filter(pc.field("correct")).column("uuid").to_pylist()) if english else set()
        effects = intervention_effects(lang, _read(task.baseline_class_files), classes, known)
    return ClassifyDone(task.dump, lang, row, missing, task.source, effects)


class ClassifyStage(Stage):
    config: ClassifyConfig

    def probe_values(self, model: str) -> dict[str, str]:
        """The predictions/neurons partition values this run classifies (all but ``lang``)."""
        cfg = self.config
        return {"model": model, "protocol": cfg.protocol, "intervention": cfg.intervention, "rules": cfg.rules}

    def _run(self) -> StageResult:
        cfg, wh = self.config, self.warehouse
        model, tokenizer_file = self._model()
        langs = [v["lang"] for v in wh.partitions(PREDICTIONS, **self.probe_values(model))]
        if not langs:
            probed = sorted(
                {
                    "/".join(v[k] for k in ("model", "protocol", "intervention", "rules"))
                    for v in wh.partitions(PREDICTIONS)
                }
            )
            rules = f" --rules {cfg.rules}" if cfg.rules != DEFAULT else ""
            raise InputNotFound(
                f"no predictions of model {model} ({cfg.protocol}, intervention {cfg.intervention}, rules {cfg.rules}) "
                f"in {wh.root}; probed (model/protocol/intervention/rules): {', '.join(probed) or 'none'}"
                f" — run 'factrace probe --protocol {cfg.protocol}{rules}' first"
            )
        presence_tokenizer = self._presence_tokenizer(tokenizer_file)
        dumps = self._dumps(presence_tokenizer)
        self._check_baseline(model, langs, dumps)
        parameters = {**dataclasses.asdict(cfg), "model_id": model, "presence_tokenizer": presence_tokenizer}
        run = self.start_run(STAGE, parameters)
        try:
            return self._classify(run, model, tokenizer_file, langs, presence_tokenizer, dumps)
        finally:
            wh.discard_staging(run.run_id)

    def _check_baseline(self, model: str, langs: list[str], dumps: list[str]) -> None:
        """An intervention's effects are counted against the baseline's classes, so those must exist."""
        cfg, wh = self.config, self.warehouse
        if not cfg.intervened:
            return
        baseline = {**self.probe_values(model), "intervention": NO_INTERVENTION}
        missing = [
            f"{dump}/{lang}"
            for dump in dumps
            for lang in langs
            if not wh.files(FACT_CLASSES, {**baseline, "dump": dump, "lang": lang})
        ]
        if missing:
            rules = f" --rules {cfg.rules}" if cfg.rules != DEFAULT else ""
            raise InputNotFound(
                f"--intervention {cfg.intervention} is compared with the baseline, which is not classified for "
                f"{', '.join(missing[:5])}{' …' if len(missing) > 5 else ''}: run 'factrace classify "
                f"--model {cfg.model} --protocol {cfg.protocol}{rules}' first"
            )

    def _model(self) -> tuple[str, str]:
        """The model id and the tokenizer file its labels are tokenized with."""
        cfg, wh = self.config, self.warehouse
        if storage.is_dir(storage.normalize(cfg.model)):
            from probing.model_files import model_dir, model_id
            from tracer.tokenization.loading import load_tokenizer

            local = model_dir(storage.normalize(cfg.model))
            model = model_id(local)
            return model, wh.keep_tokenizer(model, load_tokenizer(str(local)).to_json())
        if not wh.has_tokenizer(cfg.model):
            probed = sorted({v["model"] for v in wh.partitions(PREDICTIONS)})
            if cfg.model not in probed:
                raise InputNotFound(
                    f"--model {cfg.model!r} is neither a model directory nor a model id probed in {wh.root}; "
                    f"probed model ids: {', '.join(probed) or 'none (run factrace probe first)'}"
                )
            raise InputNotFound(
                f"{wh.root} keeps no tokenizer for model {cfg.model!r} (the probe stores it from this version on): "
                "pass --model DIR, the model's directory"
            )
        return cfg.model, wh.tokenizer_file(cfg.model)

    def _presence_tokenizer(self, model_tokenizer: str) -> str | None:
        """The fact_presence tokenizer: the one whose encoding is the model's. Presence traced with another
        tokenization says nothing exact about what the model saw, so it is used only when named."""
        cfg, wh = self.config, self.warehouse
        found = sorted({v["tokenizer"] for v in wh.partitions(FACT_PRESENCE, match_mode=cfg.match_mode)})
        if cfg.presence_tokenizer:
            if cfg.presence_tokenizer not in found:
                raise InputNotFound(
                    f"no {cfg.match_mode} fact_presence for tokenizer {cfg.presence_tokenizer}; "
                    f"there is for: {', '.join(found) or 'none'}"
                )
            return cfg.presence_tokenizer
        if not found:
            return None
        from tracer.tokenization.loading import same_encoding

        model_json = storage.read_text(model_tokenizer)
        same = [
            t
            for t in found
            if wh.has_tokenizer(t) and same_encoding(storage.read_text(wh.tokenizer_file(t)), model_json)
        ]
        if len(same) >= 1:
            return same[0]
        raise ConfigError(
            f"{cfg.match_mode} fact_presence exists for {', '.join(found)}, and none encodes text as the model "
            f"does: segment with the model's tokenizer (factrace segment --tokenizer MODEL_DIR) and trace again, "
            "or name one with --presence-tokenizer to classify with another tokenization on purpose"
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

    def _classify(
        self,
        run: RunRecord,
        model: str,
        tokenizer_file: str,
        langs: list[str],
        presence_tokenizer: str | None,
        dumps: list[str],
    ) -> StageResult:
        cfg, wh = self.config, self.warehouse
        probe = self.probe_values(model)
        neuron_files = {
            lang: wh.files(NEURONS, {**probe, "lang": lang})
            for lang in langs
            if wh.files(NEURONS, {**probe, "lang": lang})
        }
        partials = storage.join(wh.staging_dir(run.run_id), SIMILARITY)
        similarity_tasks = [
            SimilarityTask(lang, neuron_files, cfg.null_facts, cfg.alpha, storage.join(partials, f"{lang}.parquet"))
            for lang in sorted(neuron_files)
        ]
        log.info("classify: model %s, %d language(s), %d with neurons", model, len(langs), len(neuron_files))
        english = {**probe, "intervention": NO_INTERVENTION, "lang": ENGLISH_LANG}
        english_files = wh.files(PREDICTIONS, english) if cfg.intervened else []
        similar = self.runner.map(similarity_task, similarity_tasks, "classify: neuron similarity", Work("languages"))
        partial_of = {r.lang: r.partial_file for r in similar}
        tasks = []
        for dump in dumps:
            for lang in langs:
                presence = {"dump": dump, "lang": lang, "match_mode": cfg.match_mode, "tokenizer": presence_tokenizer}
                presence_files = wh.files(FACT_PRESENCE, presence) if presence_tokenizer else []
                out = {"dump": dump, **probe, "lang": lang}
                baseline = {**out, "intervention": NO_INTERVENTION}
                tasks.append(
                    ClassifyTask(
                        warehouse=wh.root,
                        dump=dump,
                        lang=lang,
                        source=partition_path(PREDICTIONS, {**probe, "lang": lang}),
                        prediction_files=wh.files(PREDICTIONS, {**probe, "lang": lang}),
                        fact_files=wh.files(FACTS, {"lang": lang}),
                        presence_files=presence_files,
                        traced=bool(presence_files),
                        presence_tokenizer=presence_tokenizer,
                        partial_file=partial_of.get(lang),
                        model_tokenizer=tokenizer_file,
                        alpha=cfg.alpha,
                        rules=cfg.rules,
                        naming_cues=list(cfg.naming_cues),
                        classes_dir=wh.staged_partition(run.run_id, FACT_CLASSES, out),
                        baseline_class_files=wh.files(FACT_CLASSES, baseline) if cfg.intervened else [],
                        english_prediction_files=english_files,
                    )
                )
        classified = self.runner.map(classify_task, tasks, "classify: patterns", Work("languages"))
        return self._publish(run, model, langs, dumps, similar, classified)

    def _publish(
        self,
        run: RunRecord,
        model: str,
        langs: list[str],
        dumps: list[str],
        similar: list[SimilarityDone],
        classified: list[ClassifyDone],
    ) -> StageResult:
        wh = self.warehouse
        probe = self.probe_values(model)
        verdicts = {lang: wh.read(PREDICTIONS, ["uuid", "correct"], **probe, lang=lang) for lang in langs}
        probed_sets = {lang: set(t.column("uuid").to_pylist()) for lang, t in verdicts.items()}
        correct_sets = {
            lang: set(t.filter(pc.field("correct")).column("uuid").to_pylist()) for lang, t in verdicts.items()
        }
        neuron_pairs = {(r.lang, other): v for r in similar for other, v in r.pairs.items()}
        pairs = pair_rows(probed_sets, correct_sets, neuron_pairs)
        by_dump: dict[str, list[dict]] = defaultdict(list)
        effects: dict[str, list[dict]] = defaultdict(list)
        for result in classified:
            by_dump[result.dump].append(result.stats)
            effects[result.dump] += result.effects
        quarantined: Counter = Counter()
        missing = [
            Quarantined(r.source, -1, "fact_missing", "predicted fact is no longer in facts: probe again", u)
            for r in classified
            if r.dump == dumps[0]
            for u in r.missing
        ]
        scope = {"dump": NO_DUMP, "stage": STAGE, "scope": ".".join(probe.values())}
        if missing:
            path = storage.join(wh.staged_partition(run.run_id, QUARANTINE, scope), "part-00000.parquet")
            quarantined.update(write_quarantine(path, missing, run.run_id))
        for dump in dumps:
            values = {"dump": dump, **probe}
            stats = sorted(by_dump[dump], key=lambda s: s["lang"])
            tables = [(LANGUAGE_STATS, stats), (LANGUAGE_PAIRS, pairs)]
            if self.config.intervened:
                tables.append((INTERVENTION_EFFECTS, sorted(effects[dump], key=lambda r: r["lang"])))
            for table, rows in tables:
                path = storage.join(wh.staged_partition(run.run_id, table, values), "part-00000.parquet")
                write_table(path, pa.Table.from_pylist(rows, schema=arrow_schema(table)))
        wh.check_staged(run.run_id)
        published = [{"dump": dump, **probe, "lang": lang} for dump in dumps for lang in langs]
        replaced = [(FACT_CLASSES, values) for values in published]
        stats_tables = [LANGUAGE_STATS, LANGUAGE_PAIRS, *([INTERVENTION_EFFECTS] if self.config.intervened else [])]
        for table in stats_tables:
            replaced += [(table, {"dump": dump, **probe}) for dump in dumps]
        wh.publish(run.run_id, [*replaced, (QUARANTINE, scope)])
        return self._finish(run, model, dumps, by_dump, similar, quarantined, published, correct_sets)

    def _finish(
        self,
        run: RunRecord,
        model: str,
        dumps: list[str],
        by_dump: dict[str, list[dict]],
        similar: list[SimilarityDone],
        quarantined: Counter,
        published: list[dict],
        correct_sets: dict[str, set[str]],
    ) -> StageResult:
        cfg = self.config
        all_stats = [s for d in dumps for s in by_dump[d]]
        totals = Counter()
        for s in all_stats:
            for key in ("queries", "correct", "language_independent", "shared", "transferred", "undecided",
                        "cross_lingual", "transferred_cross_lingual"):  # fmt: skip
                totals[key] += s[key]
        calibration = merge_calibration([r.calibration for r in similar])
        run.records_quarantined = sum(quarantined.values())
        run.records_out = totals["queries"] // len(dumps)  # every dump classifies the same predictions
        run.records_in = run.records_out + run.records_quarantined
        run.outputs = {"fact_classes": [partition_path(FACT_CLASSES, p) for p in published]}
        run.extra = {
            "model": model,
            "alpha": cfg.alpha,
            "null_facts": cfg.null_facts,
            "calibration": calibration,
            "correlations": {d: correlations(sorted(by_dump[d], key=lambda s: s["lang"])) for d in dumps},
            "totals": dict(totals),
            "fact_classes_rows": totals["queries"],
            "correct_languages": {lang: len(s) for lang, s in sorted(correct_sets.items())},
        }
        rules = f", rules {cfg.rules}" if cfg.rules != DEFAULT else ""
        intervention = f", intervention {cfg.intervention}" if cfg.intervention != "none" else ""
        traced = run.parameters.get("presence_tokenizer")
        presence = f"; presence: {cfg.match_mode}, tokenizer {traced}" if traced else "; no presence traced"
        message = (
            f"classify: model {model} ({cfg.protocol}{rules}{intervention}{presence}), "
            f"{len(correct_sets)} language(s) × "
            f"{len(dumps)} dump(s): {totals['correct']:,} of {totals['queries']:,} facts correct; "
            f"{totals['language_independent']:,} language-independent, {totals['shared']:,} shared, "
            f"{totals['transferred']:,} transferred ({totals['transferred_cross_lingual']:,} with cross-lingual "
            f"neurons), {totals['undecided']:,} undecided; cross-lingual test at alpha {cfg.alpha:g}: "
            f"{calibration['significant']:,} of {calibration['tested']:,} facts with a partner language"
        )
        return self.finish(run, message, published, quarantined)
