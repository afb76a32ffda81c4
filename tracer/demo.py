"""``factrace demo``: run every stage on the sample bundled in ``tracer/demo_data``, in Spark local mode.

The sample is authored by the project: a few articles from English, German, Japanese and Chinese
wikis, with the markup the cleaner must handle, and mLAMA-format facts about them in five relations
(``demo_data/mlama``; the Chinese labels are simplified while some text is traditional). The demo
builds a small WordPiece tokenizer from the extracted text and the filled-in facts, trains a tiny
BERT on the queries listed in ``demo_data/taught.tsv`` (seconds on a CPU), probes it, classifies
every fact and writes the report, under factrace's rules and under the authors' (``--rules fact-cl``:
their presence matching, neuron query and absent-type rule 2), side by side in one warehouse. Which
facts the model learns in which language, and which the wikis mention, is chosen so that every
pattern and every absent type appears. Then LRP2 (docs/lrp2.md): language vectors from the demo's own
segments, the layer search, a probe projected at layers 1 and 2, classified against the baseline, so the
report's LRP2 section and ``intervention_effects`` have rows."""

from __future__ import annotations

import json
import logging
import shutil
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

from schemas.tables import FACTS, PAGES
from schemas.values import CANDIDATES, DEFAULT_RULES, FACT_CL, FULL_MATCH, RULE_SETS
from tracer import storage
from tracer.errors import ConfigError
from tracer.matching.language import MODES
from tracer.report.build import ReportConfig, run_report
from tracer.stages.classify import ClassifyConfig, ClassifyStage
from tracer.stages.common import TaskRunner
from tracer.stages.extract import ExtractConfig, ExtractStage
from tracer.stages.facts import FactsConfig, FactsStage
from tracer.stages.probe import ProbeConfig
from tracer.stages.segment import SegmentConfig, SegmentStage
from tracer.stages.trace import TraceConfig, TraceStage
from tracer.warehouse import Warehouse

log = logging.getLogger("factrace.demo")
DEMO_DATA = Path(__file__).parent / "demo_data"
CLASSES_QUERY = (
    "SELECT rules, lang, count(*) FILTER (WHERE correct) AS correct, count(*) FILTER (WHERE pattern = 'shared') "
    "AS shared, count(*) FILTER (WHERE pattern = 'transferred') AS transferred FROM fact_classes "
    "GROUP BY ALL ORDER BY rules, lang"
)
TOP_K = 20  # neurons kept per fact: the demo model has 2 x 512 FFN units
LRP2_LAYERS = (1, 2)  # the demo model has two encoder layers: LIRP after the first, LSRP after the second
LRP2_INTERVENTION = f"lrp2_{LRP2_LAYERS[0]}_{LRP2_LAYERS[1]}"


def sample_dumps() -> list[str]:
    return sorted(str(p) for p in DEMO_DATA.glob("*.xml"))


def fact_sentences() -> list[str]:
    """Every demo fact's template filled in, so the tokenizer knows every label's words (as mBERT would)."""
    sentences = []
    for lang_dir in sorted((DEMO_DATA / "mlama").iterdir()):
        templates = {
            row["relation"]: row["template"]
            for row in map(json.loads, (lang_dir / "templates.jsonl").read_text(encoding="utf-8").splitlines())
        }
        for path in sorted(lang_dir.glob("P*.jsonl")):
            for row in map(json.loads, path.read_text(encoding="utf-8").splitlines()):
                filled = templates[path.stem].replace("[X]", row["sub_label"]).replace("[Y]", row["obj_label"])
                sentences.append(filled)
    return sentences


def build_wordpiece(texts: list[str], path: Path, words: int = 1500, chars: int | None = None) -> Path:
    """A small cased WordPiece tokenizer (mBERT's pipeline) whose vocabulary is built deterministically:
    special tokens, every character (or the ``chars`` most frequent; a word with another one becomes
    ``[UNK]``), alone and as a ``##`` continuation, then the most frequent words, ties broken
    alphabetically. (The ``tokenizers`` trainers break ties by hash order, so two runs could
    differ, and with them the tokenizer id.)"""
    normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False, handle_chinese_chars=True)
    pre = pre_tokenizers.BertPreTokenizer()
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(w for w, _ in pre.pre_tokenize_str(normalizer.normalize_str(text)))
    char_counts: Counter[str] = Counter()
    for word, n in counts.items():
        for c in word:
            char_counts[c] += n
    kept = sorted(char_counts, key=lambda c: (-char_counts[c], c))[:chars] if chars else char_counts
    chars_kept = sorted(kept)
    frequent = [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if len(w) > 1][:words]
    vocab_list = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars_kept, *(f"##{c}" for c in chars_kept), *frequent]
    vocab = {token: i for i, token in enumerate(dict.fromkeys(vocab_list))}
    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = pre
    path.parent.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(path))
    return path


def _train_model(wh: Warehouse, tokenizer: Path, work: Path) -> Path:
    """The demo's tiny BERT, trained on the queries listed in ``demo_data/taught.tsv`` (a few seconds), with
    kernels that give the same weights on every machine (``probing.demo_model``)."""
    from probing.demo_model import read_taught, train_portably

    columns = ["uuid", "relation", "subject_label", "object_label", "template"]
    facts = {v["lang"]: wh.read(FACTS, columns, **v).to_pylist() for v in wh.partitions(FACTS)}
    return train_portably(work / "demo-model", tokenizer, facts, read_taught(DEMO_DATA / "taught.tsv"))


def _lrp2(warehouse: str, model: str, runner: TaskRunner) -> list[str]:
    """LRP2 on the demo: language vectors from the demo's own segments, the layer search, and a probe with the
    projection (full-match, with neurons, beside the baseline)."""
    from tracer.stages.langvec import LangvecConfig, LangvecStage
    from tracer.stages.lrp2_search import SearchConfig, SearchStage
    from tracer.stages.probe import ProbeStage

    i, j = LRP2_LAYERS
    probe = ProbeConfig(
        model=model, warehouse=warehouse, protocol=[FULL_MATCH], neurons=True, top_k=TOP_K, spark_tasks=1,
        lrp2=f"{i},{j}",
    )  # fmt: skip
    return [
        LangvecStage(LangvecConfig(model=model, warehouse=warehouse, samples=200), runner).run().message,
        SearchStage(SearchConfig(model=model, warehouse=warehouse), runner).run().message,
        ProbeStage(probe, runner).run().message,
    ]


def run_demo(warehouse: str, master: str | None = None, work: str | None = None) -> str:
    """The whole pipeline on the bundled sample. The demo's tokenizer, model and report are local files: they go
    under ``work``, by default inside the warehouse when it is a local directory."""
    from tracer.spark.runner import SparkRunner
    from tracer.spark.session import spark_session
    from tracer.stages.probe import ProbeStage

    if not work and not storage.is_local(warehouse):
        raise ConfigError(f"--work DIR: a local directory for the demo's model and report ({warehouse} is not local)")
    root = Path(work) if work else Path(warehouse)  # paths as the user wrote them, in what the demo prints
    storage.delete_dir(storage.normalize(warehouse))
    if work:
        shutil.rmtree(root, ignore_errors=True)
    runner = SparkRunner(spark_session("demo", master))
    lines = [ExtractStage(ExtractConfig(dumps=sample_dumps(), warehouse=warehouse), runner).run().message]
    wh = Warehouse(warehouse)
    texts = [
        t
        for values in wh.partitions(PAGES)
        for f in wh.files(PAGES, values)
        for t in pq.read_table(f)["text"].to_pylist()
    ]
    tokenizer = build_wordpiece(sorted(texts) + fact_sentences(), root / "demo-tokenizer" / "tokenizer.json")
    lines.append(
        SegmentStage(SegmentConfig(warehouse=warehouse, tokenizer=str(tokenizer), max_tokens=32), runner).run().message
    )
    lines.append(FactsStage(FactsConfig(mlama=str(DEMO_DATA / "mlama"), warehouse=warehouse), runner).run().message)
    for mode in MODES:
        lines.append(TraceStage(TraceConfig(warehouse=warehouse, mode=mode), runner).run().message)
    model = _train_model(wh, tokenizer, root)
    for rules, protocols in ((DEFAULT_RULES, [FULL_MATCH, CANDIDATES]), (FACT_CL, [FULL_MATCH])):
        probe = ProbeConfig(
            model=str(model), warehouse=warehouse, protocol=protocols, neurons=True, top_k=TOP_K, spark_tasks=1,
            rules=rules,
        )  # fmt: skip
        out = ProbeStage(probe, runner).run()
        lines += [out.message, out.details] if rules == DEFAULT_RULES else [out.message]
    lines += _lrp2(warehouse, str(model), runner)
    for rules in RULE_SETS:
        classify = ClassifyConfig(warehouse=warehouse, model=str(model), rules=rules)
        lines.append(ClassifyStage(classify, runner).run().message)
    classify = ClassifyConfig(warehouse=warehouse, model=str(model), intervention=LRP2_INTERVENTION)
    lines.append(ClassifyStage(classify, runner).run().message)
    lines.append(run_report(ReportConfig(warehouse=warehouse, out=str(root / "report"))))
    lines.append(
        f"tables written under {warehouse}: " + ", ".join(sorted(t.name for t in Warehouse(warehouse).tables()))
    )
    lines.append(f'try: factrace query "{CLASSES_QUERY}" --warehouse {warehouse}')
    return "\n".join(lines)
