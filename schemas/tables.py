"""The table contract: every factrace table declared once.

Arrow schemas (``schemas.arrow``), DuckDB's empty views (``schemas.duckdb``) and
``docs/tables.md`` (``schemas.docs``) are all derived from these declarations,
so a column is added or changed here and nowhere else. The partition values
shared by every layer (protocols, rule sets, match modes) are in ``schemas.values``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SCHEMA_VERSION = 1

# Logical type names understood by the Arrow and Spark translators.
LOGICAL_TYPES = (
    "string",
    "int32",
    "int64",
    "float64",
    "bool",
    "binary",
    "timestamp",
    "list<int32>",
    "list<float32>",
    "list<string>",
    "list<input>",
    "list<evidence>",
    "map<string,int64>",
)


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its name, logical type, nullability and one line of meaning."""

    name: str
    type: str
    doc: str
    nullable: bool = False

    def __post_init__(self) -> None:
        if self.type not in LOGICAL_TYPES:
            raise ValueError(f"column {self.name}: unknown type {self.type!r}; use one of {LOGICAL_TYPES}")


@dataclass(frozen=True, slots=True)
class Table:
    """A table: data columns, Hive partition columns (always strings) and its key."""

    name: str
    doc: str
    columns: tuple[Column, ...]
    partitions: tuple[Column, ...] = ()
    key: tuple[str, ...] = ()
    version: int = SCHEMA_VERSION
    notes: tuple[str, ...] = field(default=())

    @property
    def all_columns(self) -> tuple[Column, ...]:
        """Data columns followed by partition columns, as a reader of the table sees them."""
        return self.columns + self.partitions

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def partition_names(self) -> list[str]:
        return [c.name for c in self.partitions]


DUMP = Column("dump", "string", "Dump date `YYYYMMDD` (from the file name or `--dump`), or `undated`.")
WIKI = Column("wiki", "string", "Wiki database name, e.g. `enwiki`, `jawiki`.")
TOKENIZER = Column(
    "tokenizer", "string", "Stable tokenizer id `<name>-<sha1 prefix>`; its file is kept under `_tokenizers/`."
)

PAGES = Table(
    name="pages",
    doc="One row per article (namespace 0, not a redirect) of a dump, as clean text.",
    columns=(
        Column("page_id", "int64", "MediaWiki page id."),
        Column("rev_id", "int64", "Revision id of the text (null when the dump has none).", nullable=True),
        Column("title", "string", "Page title."),
        Column("text", "string", "Clean text: title and paragraphs joined by one space (one line)."),
        Column("content_sha1", "string", "SHA-1 (hex) of `text`; unchanged text keeps its hash across dumps."),
        Column("char_count", "int32", "Length of `text` in Unicode code points."),
        Column("paragraph_count", "int32", "Paragraphs (section headings included) joined into `text`."),
    ),
    partitions=(DUMP, WIKI),
    key=("page_id",),
)

SEGMENTS = Table(
    name="segments",
    doc="Consecutive chunks of at most `max_tokens` model tokens cut from each page's text.",
    columns=(
        Column("page_id", "int64", "Page the segment was cut from."),
        Column("seg_no", "int32", "0-based position of the segment in its page."),
        Column("char_start", "int32", "Start of the segment in the page text (code points, inclusive)."),
        Column("char_end", "int32", "End of the segment in the page text (code points, exclusive)."),
        Column("text", "string", "`page.text[char_start:char_end]`."),
        Column("token_count", "int32", "Number of token ids in the segment."),
        Column("token_ids", "list<int32>", "Token ids, exactly the page's ids (no special tokens) in this range."),
        Column("content_sha1", "string", "`content_sha1` of the page text the segment was cut from."),
    ),
    partitions=(DUMP, WIKI, TOKENIZER),
    key=("page_id", "seg_no"),
)

LANG = Column("lang", "string", "mLAMA language code, e.g. `en`, `ja`, `zh` (a wiki `jawiki` traces as `ja`).")

FACTS = Table(
    name="facts",
    doc="One row per mLAMA query (a subject-relation-object triple) in one language, with its template.",
    columns=(
        Column("uuid", "string", "mLAMA id of the triple; the same fact has the same uuid in every language."),
        Column("relation", "string", "Wikidata property (`P17`) or Google-RE relation (`place_of_birth`)."),
        Column("subject_label", "string", "Subject label in this language (surrounding whitespace removed)."),
        Column("subject_uri", "string", "Subject Wikidata id, e.g. `Q90`."),
        Column("object_label", "string", "Object label in this language (surrounding whitespace removed)."),
        Column("object_uri", "string", "Object Wikidata id."),
        Column(
            "template", "string", "Cloze template with `[X]` and `[Y]`; null when the language has none.", nullable=True
        ),
        Column("dataset", "string", "`TREx` or `GoogleRE`."),
        Column("source", "string", "File the row came from, relative to the mLAMA directory."),
        Column("line_no", "int64", "1-based line number in `source`."),
    ),
    partitions=(LANG,),
    key=("uuid",),
)

FACT_PRESENCE = Table(
    name="fact_presence",
    doc="For every fact of a language: in how many segments of that language's wiki its subject, its object "
    "and both occur, and the first evidence segments.",
    columns=(
        Column("uuid", "string", "Fact (see `facts`)."),
        Column("relation", "string", "Relation of the fact, copied from `facts` for convenience."),
        Column("subject_segments", "int64", "Segments in which the subject label matches."),
        Column("object_segments", "int64", "Segments in which the object label matches."),
        Column("cooccurrence_segments", "int64", "Segments in which both match (overlapping matches count)."),
        Column(
            "present",
            "bool",
            "`cooccurrence_segments >= 1`; null (undecided) when a label is flagged, see `flags`.",
            nullable=True,
        ),
        Column("evidence", "list<evidence>", "First co-occurrence segments `(page_id, seg_no)` in ascending order."),
        Column(
            "flags",
            "list<string>",
            "Why `present` is undecided, e.g. `object:single_char`, `subject:digits_only`, `object:no_tokens`.",
        ),
        Column(
            "matcher", "string", "Versioned matcher that produced the row, e.g. `tokens_v1`, `text_nfkc_casefold_v1`."
        ),
        Column(
            "self_contained",
            "bool",
            "The object label is inside the subject label (lowercased; Chinese in simplified characters; only `zh` "
            "under the `fact-cl` mode): every mention of the subject mentions the object, so `present` says little. "
            "Filter with `NOT self_contained`.",
        ),
    ),
    partitions=(
        DUMP,
        LANG,
        Column(
            "match_mode",
            "string",
            "`tokens` (token-id sequences, factrace's default), `fact-cl` (the authors' substring rule) or `text`.",
        ),
        TOKENIZER,
    ),
    key=("uuid",),
    notes=(
        "A language whose facts have no segments in the warehouse has no `fact_presence` rows: it is not traced, "
        "which is not the same as absent (a LEFT JOIN from `facts` gives null `present`).",
    ),
)

MODEL = Column("model", "string", "Probed model id `<dir name>-<sha1 prefix of its config, tokenizer and weights>`.")
PROTOCOL = Column("protocol", "string", "`full-match` (the paper's) or `candidates` (mLAMA's typed querying).")
INTERVENTION = Column(
    "intervention", "string", "`none` (the model as it is), or the intervention applied while probing (LRP2)."
)
RULES = Column(
    "rules",
    "string",
    "`default` (factrace's rules) or `fact-cl` (the authors' code, exactly); docs/classification.md lists the "
    "differences.",
)
PROBE_PARTITIONS = (MODEL, LANG, PROTOCOL, INTERVENTION, RULES)

PREDICTIONS = Table(
    name="predictions",
    doc="One row per probed fact: what the model predicted for its masked query and whether it is correct.",
    columns=(
        Column("uuid", "string", "Fact (see `facts`)."),
        Column("relation", "string", "Relation of the fact."),
        Column("n_masks_tried", "int32", "Mask counts tried, 1..K (K: longest object of the relation, in tokens)."),
        Column(
            "matched_masks",
            "int32",
            "The mask count whose prediction equalled the gold ids (`default`: the smallest; `fact-cl`: the last).",
            nullable=True,
        ),
        Column("predicted_ids", "list<int32>", "Predicted ids at the matched count, else at the gold's own count."),
        Column("predicted_text", "string", "`predicted_ids` decoded."),
        Column("correct", "bool", "Full-match: some k predicts the gold ids; candidates: the gold ranks first."),
        Column("gold_rank", "int32", "Candidates protocol: rank of the gold object (0 = first).", nullable=True),
        Column("gold_log_prob", "float64", "Candidates protocol: mean log-prob of the gold tokens.", nullable=True),
    ),
    partitions=PROBE_PARTITIONS,
    key=("uuid",),
    version=2,
    notes=(
        "`intervention` and `rules` are partition levels beyond DESIGN's [model, lang, protocol], so an intervened "
        "run or a run under the authors' rules never replaces the baseline rows.",
    ),
)

NEURONS = Table(
    name="neurons",
    doc="PROBELESS top neurons of every correctly predicted fact, ranked within its (language, relation).",
    columns=(
        Column("uuid", "string", "Fact (see `facts`)."),
        Column("relation", "string", "Relation of the fact."),
        Column("neuron_ids", "list<int32>", "Top-k FFN neurons, `layer * d_ff + unit`, best first."),
        Column("scores", "list<float32>", "PROBELESS score of each neuron in `neuron_ids`."),
    ),
    partitions=PROBE_PARTITIONS,
    key=("uuid",),
    version=2,
)

LANGUAGE_VECTORS = Table(
    name="language_vectors",
    doc="LRP2's language vectors: per model, language and layer, the mean hidden state of sampled sentences "
    "(per sentence the mean over its tokens, then the mean over sentences).",
    columns=(
        Column("layer", "int32", "`hidden_states` index: 0 = the embeddings, i = after encoder layer i."),
        Column("vector", "list<float32>", "The mean hidden state (accumulated in float64, stored as float32)."),
        Column("sentences", "int64", "Sentences averaged."),
        Column("tokens", "int64", "Tokens averaged (padding never; special tokens as `pooling` says)."),
        Column(
            "source",
            "string",
            "Where the sentences came from: `segments dump=… wiki=… seed=…` (a seeded sample of the language's own "
            "segments) or `file … sha256=…` (a text file the user gave, one sentence per line).",
        ),
        Column("pooling", "string", "`mean-tokens-no-special` (default) or `mean-tokens-with-special`."),
    ),
    partitions=(MODEL, LANG),
    key=("layer",),
    notes=(
        "The paper averaged 10,000 OPUS-100 sentences per language; factrace samples the language's own wiki "
        "(or a file given per language) instead: see docs/lrp2.md.",
    ),
)

LRP2_SEARCH = Table(
    name="lrp2_search",
    doc="LRP2's layer search: for one language, the baseline and every layer pair (i, j), with their full-match "
    "accuracy on the dev and the test half of the language's TREx facts.",
    columns=(
        Column("intervention", "string", "`none` (the baseline) or `lrp2_<i>_<j>`."),
        Column("lirp", "int32", "i: LIRP after encoder layer i (null for the baseline).", nullable=True),
        Column("lsrp", "int32", "j: LSRP after encoder layer j (null for the baseline).", nullable=True),
        Column("dev_correct", "int64", "Correct facts of the dev half (full-match)."),
        Column("dev_facts", "int64", "Facts of the dev half."),
        Column("test_correct", "int64", "Correct facts of the test half."),
        Column("test_facts", "int64", "Facts of the test half."),
        Column(
            "test_correct_uuids",
            "list<string>",
            "The test half's correct facts (sorted uuids), for the baseline, the chosen and the oracle pair only "
            "(null for the other pairs): what transferability (Trans_l, against English's baseline) is computed from.",
            nullable=True,
        ),
        Column("chosen", "bool", "The pair with the best dev accuracy (ties: the smallest i, then j): what LRP2 uses."),
        Column(
            "oracle",
            "bool",
            "The pair with the best test accuracy: how the paper reports its optimal layers (an upper bound, "
            "not a held-out figure).",
        ),
    ),
    partitions=(MODEL, LANG),
    key=("intervention",),
    notes=(
        "The split is by a hash of the fact's uuid, so a fact is in the same half in every language; English rows "
        "hold the baseline only (LRP2 does not touch English).",
    ),
)

CLASS_PARTITIONS = (DUMP, MODEL, LANG, PROTOCOL, INTERVENTION, RULES)
STATS_PARTITIONS = (DUMP, MODEL, PROTOCOL, INTERVENTION, RULES)

FACT_CLASSES = Table(
    name="fact_classes",
    doc="One row per probed fact: correct or not, present in the corpus or not, and for correct facts where "
    "the model got it from (language-independent, shared, transferred) and why an absent fact was predictable.",
    columns=(
        Column("uuid", "string", "Fact (see `facts`)."),
        Column("relation", "string", "Relation of the fact."),
        Column("subject_label", "string", "Subject label in this language."),
        Column("object_label", "string", "Object label in this language."),
        Column("object_uri", "string", "Object Wikidata id (groups facts by object, as the paper's one-token P@1)."),
        Column("object_tokens", "int32", "Object length in the model's tokens, as the probe counts its gold ids."),
        Column("correct", "bool", "The probe's verdict under `protocol` (see `predictions`)."),
        Column(
            "present",
            "bool",
            "From `fact_presence`; null when the language has no corpus in this dump or the label is flagged.",
            nullable=True,
        ),
        Column(
            "cooccurrence_segments",
            "int64",
            "Segments where subject and object co-occur; null untraced.",
            nullable=True,
        ),
        Column("evidence", "list<evidence>", "First co-occurrence segments `(page_id, seg_no)`; empty when none."),
        Column(
            "similarity",
            "float64",
            "Best Jaccard of this fact's top neurons with the same fact's in another language where it is also "
            "correct; null when it has no neurons or is correct nowhere else.",
            nullable=True,
        ),
        Column("best_match_lang", "string", "The language of `similarity` (ties: the smallest code).", nullable=True),
        Column(
            "partners",
            "int32",
            "Other languages where the fact is also correct and has neurons; null when it has no neurons here.",
            nullable=True,
        ),
        Column(
            "p_value",
            "float64",
            "P(null max over the same partners >= `similarity`), permuting uuids within the relation in every "
            "language; null without partners.",
            nullable=True,
        ),
        Column(
            "cross_lingual",
            "bool",
            "`p_value <= alpha` (false when correct in no other language); null when wrong or without neurons.",
            nullable=True,
        ),
        Column(
            "pattern",
            "string",
            "Correct facts: `transferred` (absent from the corpus), `shared` (present, cross-lingual) or "
            "`language-independent` (present, not cross-lingual); null when wrong or undecidable (see `undecided`).",
            nullable=True,
        ),
        Column(
            "undecided",
            "string",
            "Why a correct fact has no pattern: `no_presence` (untraced or flagged label) or `no_neurons` "
            "(present, but its relation had one correct fact, so PROBELESS ranked nothing).",
            nullable=True,
        ),
        Column(
            "coarse_class",
            "string",
            "The paper's coarser view: `correct-present`, `correct-absent`, `correct-untraced`; null when wrong.",
            nullable=True,
        ),
        Column(
            "absent_type",
            "string",
            "Correct and absent facts, first rule that applies: `object_in_subject`, `shared_token`, "
            "`naming_cue`, `other`.",
            nullable=True,
        ),
        Column(
            "absent_group",
            "string",
            "`shared_entity_tokens` (the first two absent types), `naming_cue` or `other`.",
            nullable=True,
        ),
    ),
    partitions=CLASS_PARTITIONS,
    key=("uuid",),
    version=2,
    notes=(
        "`protocol`, `intervention` and `rules` are partition levels beyond DESIGN's [dump, model, lang]: "
        "correctness, and with it every class, depends on them. A language with facts but no corpus in any dump "
        "is classified under `dump=none`, with null `present`.",
    ),
)

LANGUAGE_STATS = Table(
    name="language_stats",
    doc="One row per language: corpus size, queries, P@1, absence rates and the counts of every class.",
    columns=(
        Column("lang", "string", "mLAMA language code."),
        Column("traced", "bool", "The language has a corpus (fact_presence rows) in this dump."),
        Column("pages", "int64", "Articles of the language's wiki in this dump (0 untraced)."),
        Column("segments", "int64", "Segments of those articles, for the presence tokenizer."),
        Column("tokens", "int64", "Tokens in those segments."),
        Column("text_bytes", "int64", "UTF-8 bytes of the clean text of those articles."),
        Column("queries", "int64", "Probed facts (rows of `fact_classes`)."),
        Column("correct", "int64", "Correctly predicted facts."),
        Column("p_at_1", "float64", "`correct / queries`."),
        Column("mean_object_tokens", "float64", "Mean object length in the model's tokens."),
        Column("present", "int64", "Facts present in the corpus."),
        Column("absent", "int64", "Facts absent from the corpus."),
        Column("absence_rate", "float64", "`absent / (present + absent)`; null untraced.", nullable=True),
        Column("correct_present", "int64", "Correct facts present in the corpus."),
        Column("correct_absent", "int64", "Correct facts absent from the corpus."),
        Column(
            "correct_absence_rate",
            "float64",
            "`correct_absent / (correct_present + correct_absent)`; null when undefined.",
            nullable=True,
        ),
        Column("language_independent", "int64", "Correct facts of pattern `language-independent`."),
        Column("shared", "int64", "Correct facts of pattern `shared`."),
        Column("transferred", "int64", "Correct facts of pattern `transferred`."),
        Column("undecided", "int64", "Correct facts without a pattern (see `fact_classes.undecided`)."),
        Column("cross_lingual", "int64", "Correct facts whose neurons match another language's (calibrated test)."),
        Column("transferred_cross_lingual", "int64", "Transferred facts that are also `cross_lingual`."),
        Column("object_in_subject", "int64", "Correct absent facts of absent type `object_in_subject`."),
        Column("shared_token", "int64", "... of absent type `shared_token`."),
        Column("naming_cue", "int64", "... of absent type `naming_cue`."),
        Column("other", "int64", "... of absent type `other`."),
        Column("mean_similarity", "float64", "Mean `similarity` over the correct facts that have one.", nullable=True),
    ),
    partitions=STATS_PARTITIONS,
    key=("lang",),
    version=2,
)

INTERVENTION_EFFECTS = Table(
    name="intervention_effects",
    doc="What an intervention (LRP2) changed, joined with tracing: per language, the facts it made correct "
    "(`gained`) and those it made wrong (`lost`) against the baseline, by presence in the language's corpus, "
    "pattern and whether English knows the fact.",
    columns=(
        Column("lang", "string", "mLAMA language code."),
        Column("change", "string", "`gained` (wrong in the baseline, correct under the intervention) or `lost`."),
        Column("presence", "string", "`present`, `absent` or `untraced` (no corpus, or a flagged label)."),
        Column(
            "pattern",
            "string",
            "The fact's pattern where it is correct: under the intervention for `gained`, in the baseline for "
            "`lost`; `undecided` when it has none.",
        ),
        Column("known_in_english", "bool", "The fact is correct in English's baseline (LRP2 leaves English as it is)."),
        Column("facts", "int64", "Facts in this cell."),
    ),
    partitions=STATS_PARTITIONS,
    key=("lang", "change", "presence", "pattern", "known_in_english"),
    notes=(
        "Written by `classify --intervention X` beside that intervention's `fact_classes`, against the baseline's "
        "(`intervention=none`, same dump, protocol and rules), which must be classified first. Facts whose "
        "verdict did not change have no row.",
    ),
)

LANGUAGE_PAIRS = Table(
    name="language_pairs",
    doc="One row per ordered pair of languages: how many correct facts they share and how alike their "
    "neurons are for those facts.",
    columns=(
        Column("lang", "string", "First language."),
        Column("other_lang", "string", "Second language."),
        Column("both_probed", "int64", "Facts probed in both languages."),
        Column("both_correct", "int64", "Facts correct in both."),
        Column(
            "correct_jaccard",
            "float64",
            "Jaccard of the two sets of correct facts among the facts probed in both (the paper's Fig. 3).",
            nullable=True,
        ),
        Column("neuron_pairs", "int64", "Facts correct in both that have neurons in both."),
        Column(
            "neuron_jaccard",
            "float64",
            "Mean Jaccard of the same fact's top neurons in the two languages; null without pairs.",
            nullable=True,
        ),
    ),
    partitions=STATS_PARTITIONS,
    key=("lang", "other_lang"),
    version=2,
)

QUARANTINE = Table(
    name="quarantine",
    doc="Every input record a stage could not use, with the reason. Nothing is dropped silently. "
    "Stages that read no dump (facts) use `dump=none`.",
    columns=(
        Column("source", "string", "Input the record came from (file path, or table and partition)."),
        Column("position", "int64", "Byte offset in the decompressed input, or row position; -1 when unknown."),
        Column("reason", "string", "Short stable reason code, e.g. `truncated`, `invalid_utf8`, `entity_declared`."),
        Column("detail", "string", "Human-readable explanation, including the parser's message."),
        Column("record_id", "string", "Page id or other key of the record when it could be read.", nullable=True),
        Column("snippet", "string", "First bytes of the bad record (escaped), for inspection.", nullable=True),
        Column("run_id", "string", "Run that quarantined the record."),
    ),
    partitions=(
        DUMP,
        Column("stage", "string", "Stage that quarantined the record (`extract`, `segment`, `facts`, ...)."),
        Column(
            "scope", "string", "Unit of work a stage run owns and replaces on rerun (a wiki; a language for facts)."
        ),
    ),
    key=("source", "position", "reason", "record_id"),
    notes=(
        "`scope` is a third partition level beyond DESIGN's [dump, stage]: rerunning one wiki replaces "
        "only that wiki's quarantine rows, atomically.",
        "The key adds `reason` and `record_id` to DESIGN's (source, position): records of a table (a fact, "
        "a prediction) have no byte position (-1), and one page can be both a copy of an earlier page "
        "(`duplicate_key`, position = its row in the task's output) and something else.",
    ),
)

RUNS = Table(
    name="runs",
    doc="One row per stage run: what went in, with which parameters, what came out.",
    columns=(
        Column("run_id", "string", "Unique run id `<stage>-<UTC time>-<random>`."),
        Column("stage", "string", "Stage name."),
        Column(
            "status", "string", "`succeeded`, `partial` (some records quarantined), `failed` or `aborted` (Ctrl-C)."
        ),
        Column("started_at", "timestamp", "UTC start time."),
        Column("finished_at", "timestamp", "UTC end time."),
        Column("duration_s", "float64", "Wall-clock seconds."),
        Column("inputs", "list<input>", "Input files or table partitions with their sizes and SHA-256."),
        Column("parameters", "string", "The resolved stage configuration as JSON."),
        Column("outputs", "string", "Published partitions as JSON: `{table: [partition paths]}`."),
        Column("records_in", "int64", "Records read (pages of all namespaces for extract; pages for segment)."),
        Column("records_out", "int64", "Records written to the stage's main table."),
        Column("records_quarantined", "int64", "Records written to quarantine."),
        Column("records_skipped", "int64", "Records deliberately not used (see `skipped`)."),
        Column("skipped", "map<string,int64>", "Skipped records by reason, e.g. `redirect`, `namespace`."),
        Column("extra", "string", "Stage-specific figures as JSON (e.g. segments written, split strategy)."),
        Column("message", "string", "The one-line summary the stage printed."),
        Column("factrace_version", "string", "Package version that ran."),
        Column(
            "parents",
            "list<string>",
            "Lineage: the runs whose published files this run read (null in rows written before schema v2).",
            nullable=True,
        ),
        Column(
            "code_version",
            "string",
            "SHA-1 prefix of the `tracer` package's source files that ran (null before schema v2).",
            nullable=True,
        ),
        Column("config_sha256", "string", "SHA-256 of `parameters` (null before schema v2).", nullable=True),
    ),
    key=("run_id",),
    version=2,
    notes=(
        "Counts reconcile: `records_in = records_out + records_quarantined + records_skipped`.",
        "Schema v2 added `parents`, `code_version` and `config_sha256`; the first run of this version adds them "
        "to an older warehouse's table (Delta schema evolution), and earlier rows read them as null.",
    ),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        PAGES,
        SEGMENTS,
        FACTS,
        FACT_PRESENCE,
        PREDICTIONS,
        NEURONS,
        LANGUAGE_VECTORS,
        LRP2_SEARCH,
        FACT_CLASSES,
        LANGUAGE_STATS,
        LANGUAGE_PAIRS,
        INTERVENTION_EFFECTS,
        QUARANTINE,
        RUNS,
    )
}


def table(name: str) -> Table:
    """Look a table up by name, with a clear error listing the known ones."""
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; known tables: {', '.join(sorted(TABLES))}") from None
