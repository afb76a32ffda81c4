"""Everything that crosses between a stage's driver and its executors, declared in one place.

A stage builds task records on the driver; a runner sends each as JSON (``tracer.stages.payloads``)
and the executor function gets the same record back, typed; its result record travels the other
way. Paths are strings (they name files on the shared filesystem every executor reaches), and
counts per reason are plain ``{reason: count}`` maps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tracer.dumps.siteinfo import SiteInfo
from tracer.dumps.splits import Split

Counts = dict[str, int]


# extract: one task per split of a dump


@dataclass(frozen=True, slots=True)
class ExtractTask:
    key: tuple[str, str]  # (dump, wiki): the pages partition
    input_no: int  # the dump's place among the partition's inputs (names its part files)
    split: Split
    siteinfo: SiteInfo
    pages_dir: str
    quarantine_dir: str
    max_page_bytes: int
    keep_headings: bool
    run_id: str
    earlier_pages: list[str] = field(default_factory=list)  # the wiki's earlier snapshot to copy unchanged pages from

    @property
    def part(self) -> str:
        return f"part-{self.input_no:03d}-{self.split.split_no:05d}.parquet"


@dataclass(frozen=True, slots=True)
class DocumentFound:
    """A second ``<mediawiki>`` document the task found, at this offset of its decompressed input."""

    offset: int
    wiki: str | None


@dataclass(frozen=True, slots=True)
class ExtractDone:
    key: tuple[str, str]
    input_no: int
    part: str
    source: str  # the split's label, as quarantine rows name it
    pages: int
    quarantined: Counts
    skipped: Counts
    documents: list[DocumentFound]
    seconds: float
    reused: int = 0  # pages copied from the earlier snapshot
    cleaned: int = 0


# segment: one task per pages file


@dataclass(frozen=True, slots=True)
class SegmentTask:
    key: tuple[str, str]  # (dump, wiki)
    pages_file: str
    tokenizer_path: str
    max_tokens: int
    segments_dir: str
    quarantine_dir: str
    run_id: str
    earlier_segments: list[str] = field(default_factory=list)  # the earlier snapshot to copy unchanged pages from


@dataclass(frozen=True, slots=True)
class SegmentDone:
    key: tuple[str, str]
    pages_in: int
    pages_out: int
    segments: int
    quarantined: Counts
    text_bytes: int
    seconds: float
    reused: int = 0  # pages whose segments were copied
    word_loop: str = ""  # which per-page loops the executor ran: `compiled` or `python` (tracer.tokenization.loops)


# facts: one task per mLAMA language


@dataclass(frozen=True, slots=True)
class FactsTask:
    lang: str
    mlama: str
    facts_dir: str
    quarantine_dir: str
    run_id: str


@dataclass(frozen=True, slots=True)
class FactsDone:
    lang: str
    facts: int
    quarantined: Counts
    no_template: int
    seconds: float


# trace: a match task per segments file, then a reduce task per fact_presence partition


@dataclass(frozen=True, slots=True)
class LanguageMatching:
    """What every trace task of one output partition shares."""

    output: str  # the fact_presence partition, as ``dump=…/lang=…/match_mode=…/tokenizer=…``
    facts_file: str
    lang: str
    mode: str
    tokenizer_file: str
    engine: str
    evidence: int


@dataclass(frozen=True, slots=True)
class MatchTask:
    matching: LanguageMatching
    segments_file: str
    partial_file: str


@dataclass(frozen=True, slots=True)
class Unreadable:
    source: str
    detail: str


@dataclass(frozen=True, slots=True)
class MatchDone:
    output: str
    partial_file: str | None  # None when the segments file could not be read (``problem``)
    segments: int = 0
    tokens: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    problem: Unreadable | None = None


@dataclass(frozen=True, slots=True)
class ReduceTask:
    matching: LanguageMatching
    partial_files: list[str]
    complete: bool  # every segments file of the partition was read
    presence_dir: str


@dataclass(frozen=True, slots=True)
class ReduceDone:
    output: str
    facts: int
    present: int
    undecided: int
    flags: Counts
    seconds: float


# classify: a similarity task per language with neurons, then a classify task per (dump, language)


@dataclass(frozen=True, slots=True)
class SimilarityTask:
    lang: str
    neuron_files: dict[str, list[str]]  # every language's neuron files
    null_facts: int
    alpha: float
    partial_file: str


@dataclass(frozen=True, slots=True)
class SimilarityDone:
    lang: str
    partial_file: str
    facts: int
    pairs: dict[str, tuple[int, float]]  # other language -> (facts correct in both, sum of their Jaccards)
    calibration: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ClassifyTask:
    warehouse: str
    dump: str
    lang: str
    source: str  # the predictions partition, as quarantine rows name it
    prediction_files: list[str]
    fact_files: list[str]
    presence_files: list[str]
    traced: bool
    presence_tokenizer: str | None
    partial_file: str | None  # the language's similarity partial, when it has neurons
    model_tokenizer: str
    alpha: float
    rules: str
    naming_cues: list[str]
    classes_dir: str
    baseline_class_files: list[str]  # under an intervention: the baseline's fact_classes, to count what changed
    english_prediction_files: list[str]  # ... and English's baseline predictions (which facts English knows)


@dataclass(frozen=True, slots=True)
class ClassifyDone:
    dump: str
    lang: str
    stats: dict[str, Any]  # the language's ``language_stats`` row
    missing: list[str]  # predicted uuids no longer in facts
    source: str
    effects: list[dict[str, Any]]  # under an intervention: the language's ``intervention_effects`` rows


# probe: one task per group of languages (one model load each)


@dataclass(frozen=True, slots=True)
class ProbeTask:
    run_id: str
    warehouse: str
    model: str
    model_dir: str
    device: str
    langs: list[str]
    facts_files: dict[str, str]
    protocols: list[str]
    neurons: bool
    max_tokens: int
    top_k: int
    rules: str
    neuron_precision: str
    intervention: str = "none"
    lrp2: list[int] = field(default_factory=list)  # [i, j]: LIRP after layer i, LSRP after layer j
    vector_files: dict[str, str] = field(default_factory=dict)  # lang -> its language_vectors file (LRP2)


@dataclass(frozen=True, slots=True)
class LanguageProbed:
    lang: str
    facts: int
    probed: int
    unusable: Counts
    queries: int
    tokens: int
    correct: dict[str, dict[str, list[int]]]  # protocol -> relation -> [correct, probed]
    neurons: Counts  # protocol -> facts with neurons
    singleton_relations: Counts  # protocol -> relations with one correct fact (no neuron ranking)
    seconds: dict[str, float]


@dataclass(frozen=True, slots=True)
class ProbeDone:
    langs: list[LanguageProbed]
    device: str
    dtype: str
    max_tokens: int
    seconds: float


# langvec: one task per language (the model loaded once per executor)


@dataclass(frozen=True, slots=True)
class LangvecTask:
    run_id: str
    model: str
    model_dir: str
    device: str
    lang: str
    segments_files: list[str]  # the language's segments to sample from ([] when a text file is given)
    text_file: str  # one sentence per line, or "" when sampling segments
    source: str  # what the rows' ``source`` says
    samples: int
    seed: int
    special_tokens: bool
    max_length: int
    vectors_dir: str


@dataclass(frozen=True, slots=True)
class LangvecDone:
    lang: str
    sentences: int
    tokens: int
    layers: int
    device: str
    seconds: float


# lrp2-search: one task per language


@dataclass(frozen=True, slots=True)
class SearchTask:
    run_id: str
    model: str
    model_dir: str
    device: str
    lang: str
    facts_file: str
    vector_files: dict[str, str]  # this language's and English's language_vectors files
    max_tokens: int
    search_dir: str


@dataclass(frozen=True, slots=True)
class SearchDone:
    lang: str
    facts: int
    pairs: int
    baseline_test: float
    chosen: str
    chosen_test: float
    oracle: str
    oracle_test: float
    seconds: float
