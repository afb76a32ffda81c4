"""Where factrace's default rules and the authors' (fact-cl) differ, counted on the shared data.

1. K (mask counts tried): with the real XLM-R tokenizer, the (language, relation) pairs of mLAMA 1.1
   whose longest object starts with a lone ``▁`` piece, where dropping that piece before counting
   tried one mask fewer than the authors' ``len(tokenizer.tokenize(obj))``.
2. Presence: the shared en, ja, uk, hy and vi dumps, all of their mLAMA facts, segmented with an
   mBERT-sized WordPiece (119,547 pieces trained here on the dumps' text and mLAMA's labels: mBERT's
   own vocabulary is not available offline) and with the real XLM-R tokenizer, traced in ``tokens``
   and ``fact-cl`` mode. Per language: present facts in each mode, the facts only one finds, and why:
   where the other mode's label occurrence sits in the token line (inside a longer token, in a ``##``
   continuation piece, before a piece that continues the word), with examples.
3. Chinese conversion: the authors converted with ``zhconv`` (installed here in its own environment
   under bench/.venvs, only run, never imported), factrace with OpenCC: the mLAMA zh labels and their
   XLM-R tokens on which the two disagree, and the zh absent-type decisions that change.

    python bench/paper_differences.py [--skip-presence]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow as pa
from _common import OUT, Timer, emit, shared, tool_python

from schemas.tables import FACT_PRESENCE, FACTS, PAGES, SEGMENTS
from tracer.classify.absent import absent_type
from tracer.classify.label_tokens import token_strings
from tracer.facts.mlama import MlamaReader
from tracer.matching.normalize import to_simplified
from tracer.matching.scripts import SPACED_WORD, char_class
from tracer.matching.substring_matcher import label_token_lines
from tracer.matching.token_boundaries import token_boundaries
from tracer.matching.token_matcher import TokenMatcher, label_token_keys
from tracer.records import Fact
from tracer.stages.common import LocalRunner
from tracer.stages.extract import ExtractConfig, ExtractStage
from tracer.stages.facts import FactsConfig, FactsStage
from tracer.stages.segment import SegmentConfig, SegmentStage
from tracer.stages.trace import TraceConfig, TraceStage
from tracer.tokenization.loading import load_stored
from tracer.tokenization.wordpiece import train_wordpiece
from tracer.warehouse import Warehouse

LANGS = ("en", "ja", "uk", "hy", "vi")
MBERT_VOCAB = 119_547
EXAMPLES = 4


def xlmr_path() -> Path:
    return shared() / "tokenizers" / "xlm-roberta-tokenizer.json"


def k_differences() -> dict:
    tokenizer = load_stored(xlmr_path())
    by_lang: dict[str, list[int]] = {}
    for lang_dir in sorted((shared() / "mlama1.1").iterdir()):
        longest: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # relation -> [with "▁", without]
        facts = [f for f in MlamaReader(shared() / "mlama1.1").read(lang_dir.name) if isinstance(f, Fact)]
        for fact, enc in zip(
            facts, tokenizer.encode_batch([f.object_label for f in facts], add_special_tokens=False), strict=True
        ):
            tokens = enc.tokens
            stripped = tokens[1:] if len(tokens) > 1 and tokens[0] == "▁" else tokens
            cell = longest[fact.relation]
            cell[0], cell[1] = max(cell[0], len(tokens)), max(cell[1], len(stripped))
        differing = sum(a != b for a, b in longest.values())
        if differing:
            by_lang[lang_dir.name] = [differing, len(longest)]
    return {"languages": len(by_lang), "relations": sum(d for d, _ in by_lang.values()), "by_language": by_lang}


def presence_warehouse() -> Warehouse:
    root = OUT / "paper-differences-wh"
    wh = Warehouse(str(root))
    if (root / "fact_presence" / "_delta_log").is_dir():
        return wh
    shutil.rmtree(root, ignore_errors=True)  # absent, or written before tables were Delta tables
    runner = LocalRunner()
    FactsStage(FactsConfig(mlama=str(shared() / "mlama1.1"), warehouse=str(root), langs=list(LANGS)), runner).run()
    for lang in LANGS:
        dump = shared() / "wiki" / (f"{lang}wiki-sample-206p.xml.bz2" if lang == "en" else f"{lang}wiki-sample.xml.bz2")
        ExtractStage(ExtractConfig(dumps=[str(dump)], warehouse=str(root), dump="20230501"), runner).run()
    texts = [t for v in wh.partitions(PAGES) for t in wh.read(PAGES, ["text"], **v).column("text").to_pylist()]
    labels = [
        t
        for lang in LANGS
        for f in MlamaReader(shared() / "mlama1.1").read(lang)
        if isinstance(f, Fact)
        for t in (f.subject_label, f.object_label)
    ]
    wordpiece = OUT / "mbert-sized-wordpiece" / "tokenizer.json"
    wordpiece.parent.mkdir(parents=True, exist_ok=True)
    train_wordpiece(texts + labels, MBERT_VOCAB).save(str(wordpiece))
    for tokenizer in (wordpiece, xlmr_path()):
        SegmentStage(SegmentConfig(warehouse=str(root), tokenizer=str(tokenizer)), runner).run()
    for mode in ("tokens", "fact-cl"):
        TraceStage(TraceConfig(warehouse=str(root), mode=mode), runner).run()
    return wh


def where_found(line: str, keyword: str, continues: str) -> str:
    """Where the first occurrence of ``keyword`` in a token line sits."""
    at = line.find(keyword)
    if at < 0:
        return "not found"
    end = at + len(keyword)
    if at > 0 and line[at - 1] != " ":
        token_start = line.rfind(" ", 0, at) + 1
        return "inside a ## continuation piece" if line.startswith("##", token_start) else "inside a longer token"
    if end < len(line) and line[end] != " ":
        return "inside a longer token"
    following = line[end + 1 :].split(" ", 1)[0]
    if continues == "##":
        goes_on = following.startswith("##")
    else:  # SentencePiece: a piece without "▁" that starts with a letter or digit of a spaced script
        goes_on = bool(following) and not following.startswith("▁") and char_class(following[0]) == SPACED_WORD
    return "before a piece that continues the word" if goes_on else "at token edges"


def presence_differences(wh: Warehouse) -> dict:
    out = {}
    for tokenizer_id in sorted({v["tokenizer"] for v in wh.partitions(FACT_PRESENCE)}):
        tokenizer = load_stored(wh.tokenizer_file(tokenizer_id))
        boundaries = token_boundaries(tokenizer)
        continues = "##" if boundaries.family == "wordpiece" else "▁"
        pieces = [tokenizer.id_to_token(i) or "" for i in range(tokenizer.get_vocab_size(with_added_tokens=True))]
        per_lang = {}
        for lang in LANGS:
            modes = {
                m: {
                    r["uuid"]: r
                    for r in wh.read(FACT_PRESENCE, lang=lang, match_mode=m, tokenizer=tokenizer_id).to_pylist()
                }
                for m in ("tokens", "fact-cl")
            }
            facts = {f["uuid"]: f for f in wh.read(FACTS, lang=lang).to_pylist()}
            segments = {
                (s["page_id"], s["seg_no"]): s["token_ids"]
                for s in wh.read(
                    SEGMENTS, ["page_id", "seg_no", "token_ids"], wiki=f"{lang}wiki", tokenizer=tokenizer_id
                ).to_pylist()
            }
            only = {
                m: sorted(u for u, r in modes[m].items() if r["present"] and not modes[other][u]["present"])
                for m, other in (("fact-cl", "tokens"), ("tokens", "fact-cl"))
            }
            reasons: Counter = Counter()
            examples: dict[str, list[str]] = defaultdict(list)
            for uuid in only["fact-cl"]:
                if modes["tokens"][uuid]["present"] is None:
                    reasons["a flagged label (undecided in tokens mode; fact-cl only records flags)"] += 1
                    continue
                reason, example = _why_fact_cl_only(
                    modes["fact-cl"][uuid], facts[uuid], segments, tokenizer, boundaries, pieces, continues
                )
                reasons[reason] += 1
                if len(examples[reason]) < EXAMPLES:
                    examples[reason].append(example)
            present = {m: sum(bool(r["present"]) for r in rows.values()) for m, rows in modes.items()}
            per_lang[lang] = {
                "facts": len(facts),
                "present_tokens": present["tokens"],
                "present_fact_cl": present["fact-cl"],
                "more_with_fact_cl_percent": round(100 * (present["fact-cl"] / present["tokens"] - 1), 1)
                if present["tokens"]
                else None,
                "only_fact_cl": len(only["fact-cl"]),
                "only_tokens": len(only["tokens"]),
                "only_tokens_examples": [
                    f"{facts[u]['subject_label']} / {facts[u]['object_label']}" for u in only["tokens"][:EXAMPLES]
                ],
                "fact_cl_only_by_reason": dict(reasons.most_common()),
                "examples": dict(examples),
            }
        out[tokenizer_id] = per_lang
    return out


def _why_fact_cl_only(row: dict, fact: dict, segments: dict, tokenizer, boundaries, pieces, continues) -> tuple:
    """Which label tokens mode missed in the first fact-cl evidence segment, and where fact-cl found it."""
    first = row["evidence"][0]
    ids = segments[(first["page_id"], first["seg_no"])]
    line = " ".join(pieces[i] for i in ids)
    labels = [fact["subject_label"], fact["object_label"]]
    keys = label_token_keys(tokenizer, labels, boundaries.bare_marker)
    _, key = TokenMatcher(keys, boundaries, "daachorse").match(pa.array([ids], pa.list_(pa.int32())))
    missed = [i for i in range(2) if i not in set(key.tolist())]
    which = missed[0] if missed else 0
    keyword = label_token_lines(tokenizer, [labels[which]])[0]
    reason = where_found(line, keyword, continues)
    at = line.find(keyword)
    context = line[max(0, at - 30) : at + len(keyword) + 30]
    role = "subject" if which == 0 else "object"
    return reason, f"{fact['subject_label']} / {fact['object_label']} ({role} {keyword!r} in '…{context}…')"


def absent_rule_differences(tokenizer_file: Path) -> dict:
    """Every mLAMA fact typed as if correct and absent, under both rule sets: where rule 2 (and the Chinese codes)
    make them differ, by language."""
    tokenizer = load_stored(tokenizer_file)
    by_lang, kinds, examples = {}, Counter(), []
    for lang_dir in sorted((shared() / "mlama1.1").iterdir()):
        facts = [f for f in MlamaReader(shared() / "mlama1.1").read(lang_dir.name) if isinstance(f, Fact)]
        labels = sorted({t for f in facts for t in (f.subject_label, f.object_label)})
        tokens = dict(
            zip(labels, (e.tokens for e in tokenizer.encode_batch(labels, add_special_tokens=False)), strict=True)
        )
        differing = 0
        for f in facts:
            args = (f.subject_label, f.object_label, f.relation, lang_dir.name, tokens.__getitem__)
            ours, theirs = absent_type(*args), absent_type(*args, rules="fact-cl")
            if ours != theirs:
                differing += 1
                kinds[(ours, theirs)] += 1
                if len(examples) < 10:
                    shared_tokens = sorted(set(tokens[f.subject_label]) & set(tokens[f.object_label]))
                    examples.append(
                        f"{lang_dir.name}: {f.subject_label} / {f.object_label}: default {ours}, "
                        f"fact-cl {theirs} (shared tokens {shared_tokens})"
                    )
        if differing:
            by_lang[lang_dir.name] = [differing, len(facts)]
    return {
        "tokenizer": tokenizer_file.name,
        "facts_typed_differently": sum(d for d, _ in by_lang.values()),
        "by_language": by_lang,
        "kinds": {f"{a} -> {b}": n for (a, b), n in kinds.most_common()},
        "examples": examples,
    }


def zhconv_python() -> Path:
    return tool_python("zhconv", "zhconv")


def chinese_conversion() -> dict:
    facts = [f for f in MlamaReader(shared() / "mlama1.1").read("zh") if isinstance(f, Fact)]
    tokenize = token_strings(load_stored(xlmr_path()))
    labels = sorted({t for f in facts for t in (f.subject_label, f.object_label)})
    tokens = sorted({t for label in labels for t in tokenize(label)})
    texts = labels + tokens
    script = (
        "import json, sys\nfrom zhconv import convert\n"
        "print(json.dumps([convert(t, 'zh-cn') for t in json.load(sys.stdin)]))"
    )
    done = subprocess.run(
        [str(zhconv_python()), "-c", script], input=json.dumps(texts), capture_output=True, text=True, check=True
    )
    theirs = dict(zip(texts, json.loads(done.stdout), strict=True))
    ours = {t: to_simplified(t) for t in texts}
    differ = [t for t in texts if ours[t] != theirs[t]]

    changed, kinds = [], Counter()
    for fact in facts:
        args = (fact.subject_label, fact.object_label, fact.relation, "zh", tokenize)
        mine = absent_type(*args, rules="fact-cl")
        theirs_type = absent_type(*args, rules="fact-cl", simplify=lambda text: theirs.get(text, text))
        if mine != theirs_type:
            changed.append(f"{fact.subject_label} / {fact.object_label}: OpenCC {mine}, zhconv {theirs_type}")
            kinds[(mine, theirs_type)] += 1
    return {
        "labels": len(labels),
        "labels_converted_differently": sum(t in set(labels) for t in differ),
        "tokens": len(tokens),
        "tokens_converted_differently": sum(t in set(tokens) for t in differ),
        "examples": [f"{t}: OpenCC {ours[t]}, zhconv {theirs[t]}" for t in differ[:10]],
        "zh_facts": len(facts),
        "absent_type_changes": len(changed),
        "absent_type_change_kinds": {f"{a} -> {b}": n for (a, b), n in kinds.items()},
        "absent_type_change_examples": changed[:10],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-presence", action="store_true", help="leave out part 2 (it builds a warehouse)")
    args = parser.parse_args()
    result = {"benchmark": "paper_differences", "k_differences": k_differences()}
    if not args.skip_presence:
        with Timer() as built:
            wh = presence_warehouse()
        result["presence_seconds"] = round(built.seconds, 1)
        result["presence"] = presence_differences(wh)
    result["chinese_conversion"] = chinese_conversion()
    wordpiece = OUT / "mbert-sized-wordpiece" / "tokenizer.json"
    result["absent_rule_2"] = [absent_rule_differences(path) for path in (xlmr_path(), wordpiece) if path.exists()]
    emit(result)


if __name__ == "__main__":
    main()
