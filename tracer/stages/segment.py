"""The segment stage: ``pages`` → ``segments`` with one tokenizer, one Parquet file per pages file."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from schemas.tables import PAGES, QUARANTINE, SEGMENTS
from tracer import storage
from tracer.config import option, require
from tracer.earlier import earlier_segments
from tracer.errors import InputNotFound
from tracer.failpoints import reached
from tracer.progress import Work, row_count
from tracer.records import Page, Quarantined, Segment
from tracer.runs import RunRecord, file_digest
from tracer.segmentation import Segmenter
from tracer.stages.common import Stage, StageResult, write_quarantine
from tracer.stages.reuse import SIGNATURES, earlier_partition, run_signatures
from tracer.stages.tasks import SegmentDone, SegmentTask
from tracer.tokenization.loading import load_stored, load_tokenizer
from tracer.tokenization.loops import IMPLEMENTATION
from tracer.versions import segmenter_version
from tracer.warehouse import PartWriter, partition_path

log = logging.getLogger("factrace.segment")
STAGE = "segment"


@dataclass
class SegmentConfig:
    warehouse: str = option(help="warehouse: a path or URI (s3://, gs://, hdfs://, abfs://, file://)")
    tokenizer: str = option(help="tokenizer.json, WordPiece vocab.txt, local model directory, or cached hub name")
    max_tokens: int = option(512, help="most tokens per segment")
    dumps: list[str] = option([], help="only these dump labels (default: all)")
    wikis: list[str] = option([], help="only these wikis (default: all)")
    lowercase: bool | None = option(
        None, help="lowercase for a bare vocab.txt (default: tokenizer_config.json, else no)"
    )
    reuse: bool = option(True, help="copy the segments of pages whose text is unchanged since the newest earlier dump")

    def __post_init__(self) -> None:
        require(self.max_tokens >= 1, f"--max-tokens must be at least 1, got {self.max_tokens}")


@lru_cache(maxsize=4)
def _segmenter(tokenizer_path: str, max_tokens: int) -> Segmenter:
    """One segmenter (and word cache) per executor process and tokenizer, reused across tasks."""
    return Segmenter(load_stored(tokenizer_path), max_tokens)


def _segment_row(seg: Segment) -> dict:
    """The row of a segment (``dataclasses.asdict`` would deep-copy every id list)."""
    return {
        "page_id": seg.page_id,
        "seg_no": seg.seg_no,
        "char_start": seg.char_start,
        "char_end": seg.char_end,
        "text": seg.text,
        "token_count": len(seg.token_ids),
        "token_ids": seg.token_ids,
        "content_sha1": seg.content_sha1,
    }


def segment_task(task: SegmentTask) -> SegmentDone:
    """Executor side: segment one pages file into one segments file (same part name). Pages the earlier
    snapshot has with the same text get its segments copied, in their place among the others."""
    started = time.perf_counter()
    segmenter = _segmenter(task.tokenizer_path, task.max_tokens)
    segmenter.source = task.pages_file
    name = storage.name(task.pages_file)
    try:
        table = pq.read_table(task.pages_file, columns=[f.name for f in dataclasses.fields(Page)])
    except (pa.ArrowException, OSError) as err:
        return _unreadable(task, name, err, started)
    copied = earlier_segments(task.earlier_segments, table.column("page_id"), table.column("content_sha1"))
    copied_rows = Counter(copied.column("position").to_pylist())
    columns = [table.column(f.name).to_pylist() for f in dataclasses.fields(Page)]
    writer = PartWriter(storage.join(task.segments_dir, name), SEGMENTS)
    quarantined = []
    segmented_pages: set[int] = set()
    next_copied = 0
    for position, values in enumerate(zip(*columns, strict=True)):
        page = Page(*values)
        if position in copied_rows:
            rows = copied_rows[position]
            writer.add_table(copied.slice(next_copied, rows))
            next_copied += rows
            segmented_pages.add(page.page_id)
            continue
        for record in segmenter.page_records(page, position):
            if isinstance(record, Segment):
                writer.add(_segment_row(record))
                segmented_pages.add(record.page_id)
            else:
                quarantined.append(record)
    reached("segment:write")
    written = writer.close()
    reasons = write_quarantine(storage.join(task.quarantine_dir, name), quarantined, task.run_id)
    text_bytes = pc.sum(pc.binary_length(table.column("text").cast("binary"))).as_py() or 0
    return SegmentDone(
        task.key, table.num_rows, len(segmented_pages), written, dict(reasons), text_bytes,
        time.perf_counter() - started, len(copied_rows), IMPLEMENTATION,
    )  # fmt: skip


def _unreadable(task: SegmentTask, name: str, err: Exception, started: float) -> SegmentDone:
    """A pages file that cannot be read is quarantined whole (one record) and the run goes on."""
    detail = f"pages file cannot be read ({type(err).__name__}: {err}); rerun extract for its dump and wiki"
    problem = Quarantined(task.pages_file, -1, "unreadable_pages", detail)
    reasons = write_quarantine(storage.join(task.quarantine_dir, name), [problem], task.run_id)
    return SegmentDone(task.key, 1, 0, 0, dict(reasons), 0, time.perf_counter() - started)


class SegmentStage(Stage):
    config: SegmentConfig

    def _run(self) -> StageResult:
        cfg, wh = self.config, self.warehouse
        partitions = wh.partitions(PAGES, dump=cfg.dumps or None, wiki=cfg.wikis or None)
        if not partitions:
            have = ", ".join(f"{v['dump']}/{v['wiki']}" for v in wh.partitions(PAGES)) or "none"
            raise InputNotFound(
                f"no pages partitions in {wh.root} match dumps={cfg.dumps or 'all'} wikis={cfg.wikis or 'all'} "
                f"(pages there: {have}): run extract first, or fix --dumps/--wikis"
            )
        loaded = load_tokenizer(cfg.tokenizer, cfg.lowercase)
        tokenizer_path = wh.keep_tokenizer(loaded.tokenizer_id, loaded.to_json())
        run = self.start_run(STAGE, {**dataclasses.asdict(cfg), "tokenizer_id": loaded.tokenizer_id})
        signature = _signature(loaded.tokenizer_id, cfg.max_tokens)
        tasks = []
        self.reused_from: dict[str, str] = {}
        known = run_signatures(wh) if cfg.reuse else {}
        for values in partitions:
            seg_values = {**values, "tokenizer": loaded.tokenizer_id}
            earlier = earlier_partition(wh, SEGMENTS, seg_values, signature, known) if cfg.reuse else None
            if earlier is not None:
                self.reused_from[partition_path(SEGMENTS, seg_values)] = earlier["dump"]
            q_values = {"dump": values["dump"], "stage": STAGE, "scope": f"{values['wiki']}.{loaded.tokenizer_id}"}
            for path in wh.files(PAGES, values):
                run.inputs.append({**file_digest(path), "path": storage.relative(path, wh.root)})
                tasks.append(
                    SegmentTask(
                        key=(values["dump"], values["wiki"]),
                        pages_file=path,
                        tokenizer_path=tokenizer_path,
                        max_tokens=cfg.max_tokens,
                        segments_dir=wh.staged_partition(run.run_id, SEGMENTS, seg_values),
                        quarantine_dir=wh.staged_partition(run.run_id, QUARANTINE, q_values),
                        run_id=run.run_id,
                        earlier_segments=wh.files(SEGMENTS, earlier) if earlier else [],
                    )
                )
        log.info("segment: %d pages file(s) with tokenizer %s, run %s", len(tasks), loaded.tokenizer_id, run.run_id)
        try:
            results = self.runner.map(
                segment_task, tasks, "segment", Work("pages", [row_count(t.pages_file) for t in tasks])
            )
            return self._publish(run, partitions, loaded.tokenizer_id, results, signature)
        finally:
            wh.discard_staging(run.run_id)

    def _publish(
        self,
        run: RunRecord,
        partitions: list[dict[str, str]],
        tokenizer_id: str,
        results: list[SegmentDone],
        signature: str,
    ) -> StageResult:
        wh = self.warehouse
        quarantined: Counter = Counter()
        for r in results:
            quarantined.update(r.quarantined)
        published, replaced = [], []
        wh.check_staged(run.run_id)
        for values in partitions:
            seg_values = {**values, "tokenizer": tokenizer_id}
            if any(r.segments for r in results if r.key == (values["dump"], values["wiki"])):
                replaced.append((SEGMENTS, seg_values))
                published.append(partition_path(SEGMENTS, seg_values))
        for values in partitions:
            replaced.append(
                (QUARANTINE, {"dump": values["dump"], "stage": STAGE, "scope": f"{values['wiki']}.{tokenizer_id}"})
            )
        wh.publish(run.run_id, replaced)
        run.records_in = sum(r.pages_in for r in results)
        run.records_out = sum(r.pages_out for r in results)
        run.records_quarantined = sum(quarantined.values())
        segments = sum(r.segments for r in results)
        text_bytes = sum(r.text_bytes for r in results)
        seconds = sum(r.seconds for r in results)
        run.outputs = {"segments": published}
        run.extra = {
            "segments": segments,
            "tokenizer_id": tokenizer_id,
            "text_bytes": text_bytes,
            "task_seconds": round(seconds, 3),
            "quarantined_by_reason": dict(quarantined),
            "pages_reused": sum(r.reused for r in results),
            "pages_segmented": run.records_in - sum(r.reused for r in results),
            "reused_from": self.reused_from,
            "segmenter_version": segmenter_version(),
            "word_loop": sorted({r.word_loop for r in results if r.word_loop}),
            SIGNATURES: {partition_path(SEGMENTS, {**v, "tokenizer": tokenizer_id}): signature for v in partitions},
        }
        message = f"segment: {run.records_out:,} pages -> {segments:,} segments (tokenizer {tokenizer_id})"
        tail = ""
        if run.extra["pages_reused"]:
            dumps = ", ".join(sorted(set(self.reused_from.values())))
            tail = f"; {run.extra['pages_reused']:,} unchanged page(s) copied from dump(s) {dumps}"
        return self.finish(run, message, published, quarantined, tail=tail)


def _signature(tokenizer_id: str, max_tokens: int) -> str:
    """What a page's segments depend on besides its text: the segmenter's code, the tokenizer and the length."""
    settings = {"segmenter": segmenter_version(), "tokenizer": tokenizer_id, "max_tokens": max_tokens}
    return hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
