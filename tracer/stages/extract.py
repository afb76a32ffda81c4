"""The extract stage: dumps → ``pages`` (+ ``quarantine``), one Parquet file per split."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

from schemas.tables import PAGES, QUARANTINE
from tracer import storage
from tracer.config import option, require
from tracer.dumps.page_scanner import DEFAULT_MAX_PAGE_BYTES
from tracer.dumps.plan import DumpPlan, plan_dump
from tracer.dumps.splits import STRATEGIES
from tracer.earlier import EarlierPages
from tracer.errors import InputNotFound
from tracer.extraction import PageExtractor
from tracer.failpoints import reached
from tracer.keys import later_copies, split_rows
from tracer.progress import Work
from tracer.records import ExtraDocument, Page, Quarantined, Skipped
from tracer.runs import RunRecord, file_digest
from tracer.stages.common import Stage, StageResult, counts_line, quarantine_row, write_quarantine
from tracer.stages.reuse import SIGNATURES, earlier_partition, run_signatures
from tracer.stages.tasks import DocumentFound, ExtractDone, ExtractTask
from tracer.versions import cleaner_version
from tracer.warehouse import PartWriter, partition_path, write_table

log = logging.getLogger("factrace.extract")
STAGE = "extract"


@dataclass
class ExtractConfig:
    dumps: list[str] = option(help="MediaWiki XML dump files (.xml, .bz2, .gz, .xz)", positional=True)
    warehouse: str = option(help="warehouse: a path or URI (s3://, gs://, hdfs://, abfs://, file://)")
    wiki: str | None = option(None, help="wiki code for every input (default: <dbname>, file name, <base>)")
    dump: str | None = option(None, help="dump label YYYYMMDD (default: the date in the file name, else 'undated')")
    split_strategy: str = option("auto", help="how to cut a dump into tasks", choices=STRATEGIES)
    split_mb: float = option(64.0, help="compressed megabytes per task")
    index: str | None = option(None, help="multistream index file (default: found beside the dump)")
    max_page_bytes: int = option(DEFAULT_MAX_PAGE_BYTES, help="larger pages are quarantined unread")
    keep_headings: bool = option(True, help="keep section headings followed by prose, as WikiExtractor does")
    reuse: bool = option(
        True, help="copy pages whose revision and title are unchanged from the wiki's newest earlier dump"
    )

    def __post_init__(self) -> None:
        require(self.split_mb > 0, f"--split-mb must be positive, got {self.split_mb}")
        require(self.max_page_bytes > 0, f"--max-page-bytes must be positive, got {self.max_page_bytes}")
        require(bool(self.dumps), "name at least one dump file")


def _page_row(page: Page) -> dict:
    return dataclasses.asdict(page)


def extract_task(task: ExtractTask) -> ExtractDone:
    """Executor side: read one split, write its pages and quarantine files to staging, return counts."""
    earlier = EarlierPages(task.earlier_pages).get if task.earlier_pages else None
    extractor = PageExtractor(task.siteinfo, task.max_page_bytes, task.keep_headings, task.key[1], earlier)
    pages = PartWriter(storage.join(task.pages_dir, task.part), PAGES)
    quarantined: list[Quarantined] = []
    skipped: Counter = Counter()
    documents: list[DocumentFound] = []
    started = time.perf_counter()
    for record in extractor.run(task.split):
        if isinstance(record, Page):
            pages.add(_page_row(record))
            reached("extract:task")
        elif isinstance(record, Skipped):
            skipped[record.reason] += 1
        elif isinstance(record, ExtraDocument):
            documents.append(DocumentFound(record.offset, record.wiki))
        else:
            quarantined.append(record)
    written = pages.close()
    reasons = write_quarantine(storage.join(task.quarantine_dir, task.part), quarantined, task.run_id)
    return ExtractDone(
        task.key, task.input_no, task.part, task.split.label, written, dict(reasons), dict(skipped), documents,
        time.perf_counter() - started, extractor.reused, extractor.cleaned,
    )  # fmt: skip


def _whole_input(tasks: list[ExtractTask]) -> ExtractTask:
    """One task that reads an input from its start to its end: every document boundary is then seen in order."""
    first = tasks[0]
    size = max(t.split.end for t in tasks)
    whole = dataclasses.replace(first.split, strategy="whole-file", split_no=0, start=0, end=size)
    return dataclasses.replace(first, split=whole)


def _megabytes(tasks: list[ExtractTask]) -> Work:
    """Compressed megabytes per task: what an extract's progress counts."""
    return Work("MB", [(t.split.end - t.split.start) / (1 << 20) for t in tasks])


class ExtractStage(Stage):
    config: ExtractConfig
    creates_warehouse = True

    def _run(self) -> StageResult:
        cfg = self.config
        named = []
        for pattern in cfg.dumps:
            found = storage.expand(pattern)
            if not found:
                raise InputNotFound(f"no dump matches {pattern}: check the folder and the pattern")
            named += found
        first_named: dict[str, str] = {}
        for path in named:
            first_named.setdefault(storage.normalize(path), path)
        paths = list(first_named.values())
        if len(paths) < len(named):
            log.warning("extract: %d dump(s) named more than once; each is read once", len(named) - len(paths))
        plans = [
            plan_dump(
                path,
                wiki=cfg.wiki,
                dump=cfg.dump,
                strategy=cfg.split_strategy,
                split_bytes=max(1, int(cfg.split_mb * (1 << 20))),
                index=cfg.index,
            )
            for path in paths
        ]
        run = self.start_run(STAGE, dataclasses.asdict(cfg))
        run.inputs = [file_digest(p.path) for p in plans]
        for plan in plans:
            for warning in plan.warnings:
                log.warning(warning)
        try:
            return self._extract(run, plans)
        finally:
            self.warehouse.discard_staging(run.run_id)

    def _extract(self, run: RunRecord, plans: list[DumpPlan]) -> StageResult:
        wh = self.warehouse
        groups: dict[tuple[str, str], list[DumpPlan]] = defaultdict(list)
        for plan in sorted(plans, key=lambda p: p.path):
            groups[(plan.dump, plan.wiki or "unknown")].append(plan)
        tasks, header_problems = [], defaultdict(list)
        self.signatures, self.reused_from = {}, {}
        self.known_signatures = run_signatures(self.warehouse) if self.config.reuse else {}
        for (dump, wiki), group in sorted(groups.items()):
            values = {"dump": dump, "wiki": wiki}
            qvalues = {"dump": dump, "stage": STAGE, "scope": wiki}
            earlier_files = self._earlier(values, group)
            for input_no, plan in enumerate(group):
                header_problems[(dump, wiki)].extend(plan.problems)
                if not plan.usable:
                    continue
                for split in plan.splits:
                    tasks.append(
                        ExtractTask(
                            key=(dump, wiki),
                            input_no=input_no,
                            split=split,
                            siteinfo=plan.siteinfo,
                            pages_dir=wh.staged_partition(run.run_id, PAGES, values),
                            quarantine_dir=wh.staged_partition(run.run_id, QUARANTINE, qvalues),
                            max_page_bytes=self.config.max_page_bytes,
                            keep_headings=self.config.keep_headings,
                            run_id=run.run_id,
                            earlier_pages=earlier_files,
                        )
                    )
        log.info("extract: %d input(s), %d task(s), run %s", len(plans), len(tasks), run.run_id)
        results = self.runner.map(extract_task, tasks, "extract", _megabytes(tasks)) if tasks else []
        results = self._reread_concatenated(tasks, results)
        return self._publish(run, header_problems, results, tasks)

    def _earlier(self, values: dict[str, str], group: list[DumpPlan]) -> list[str]:
        """The pages files of the wiki's newest earlier dump cleaned as this one will be ([] when none, or off)."""
        cfg = self.config
        signature = "+".join(
            sorted({PageExtractor(p.siteinfo, cfg.max_page_bytes, cfg.keep_headings, values["wiki"]).signature
                    for p in group if p.usable})
        )  # fmt: skip
        self.signatures[partition_path(PAGES, values)] = signature
        if not cfg.reuse or not signature:
            return []
        earlier = earlier_partition(self.warehouse, PAGES, values, signature, self.known_signatures)
        if earlier is None:
            return []
        self.reused_from[partition_path(PAGES, values)] = earlier["dump"]
        return self.warehouse.files(PAGES, earlier)

    def _reread_concatenated(self, tasks: list[ExtractTask], results: list[ExtractDone]) -> list[ExtractDone]:
        """An input that turned out to hold a second ``<mediawiki>`` document is read again by one task from its
        start, so that every page after the boundary is known to belong to it (a task that starts inside the
        second document cannot tell). Rare, and exact."""
        by_input: dict[tuple, list[int]] = defaultdict(list)
        for i, task in enumerate(tasks):
            by_input[(*task.key, task.input_no)].append(i)
        again = [rows for rows in by_input.values() if len(rows) > 1 and any(results[i].documents for i in rows)]
        if not again:
            return results
        rerun = []
        for rows in again:
            for i in rows:
                for folder in (tasks[i].pages_dir, tasks[i].quarantine_dir):
                    storage.delete_file(storage.join(folder, tasks[i].part))
            rerun.append(_whole_input([tasks[i] for i in rows]))
        log.warning("extract: %d input(s) hold more than one <mediawiki> document; reading them again whole",
                    len(rerun))  # fmt: skip
        dropped = {i for rows in again for i in rows}
        kept = [r for i, r in enumerate(results) if i not in dropped]
        return kept + self.runner.map(extract_task, rerun, "extract", _megabytes(rerun))

    def _publish(
        self,
        run: RunRecord,
        header_problems: dict[tuple[str, str], list[Quarantined]],
        results: list[ExtractDone],
        tasks: list[ExtractTask],
    ) -> StageResult:
        wh = self.warehouse
        per_key: dict[tuple[str, str], Counter] = defaultdict(Counter)
        quarantined: Counter = Counter()
        skipped: Counter = Counter()
        documents = []
        for result in results:
            per_key[result.key]["pages"] += result.pages
            quarantined.update(result.quarantined)
            skipped.update(result.skipped)
            documents += [{"partition": "/".join(result.key), **dataclasses.asdict(d)} for d in result.documents]
        published = []
        for (dump, wiki), problems in sorted(header_problems.items()):
            values = {"dump": dump, "wiki": wiki}
            sources = {r.part: r.source for r in results if r.key == (dump, wiki)}
            copies = self._set_aside_repeated_pages(run.run_id, values, sources)
            per_key[(dump, wiki)]["pages"] -= len(copies)
            problems = problems + copies
            qvalues = {"dump": dump, "stage": STAGE, "scope": wiki}
            if problems:
                path = storage.join(wh.staged_partition(run.run_id, QUARANTINE, qvalues), "part-header.parquet")
                quarantined.update(write_quarantine(path, problems, run.run_id))
        wh.check_staged(run.run_id)
        replaced = []
        for dump, wiki in sorted(header_problems):
            values = {"dump": dump, "wiki": wiki}
            if per_key[(dump, wiki)]["pages"]:
                replaced.append((PAGES, values))
                published.append(values)
        replaced += [
            (QUARANTINE, {"dump": dump, "stage": STAGE, "scope": wiki}) for dump, wiki in sorted(header_problems)
        ]
        wh.publish(run.run_id, replaced)
        run.records_out = sum(c["pages"] for c in per_key.values())
        run.records_quarantined = sum(quarantined.values())
        run.skipped = dict(skipped)
        run.records_in = run.records_out + run.records_quarantined + run.records_skipped
        run.outputs = {
            "pages": [partition_path(PAGES, v) for v in published],
        }
        run.extra = {
            "tasks": len(tasks),
            "strategies": sorted({t.split.strategy for t in tasks}),
            "quarantined_by_reason": dict(quarantined),
            "pages_by_partition": {f"{d}/{w}": c["pages"] for (d, w), c in sorted(per_key.items())},
            "task_seconds": round(sum(r.seconds for r in results), 3),
            "extra_documents": documents,
            "pages_reused": sum(r.reused for r in results),
            "pages_cleaned": sum(r.cleaned for r in results),
            "reused_from": self.reused_from,
            "cleaner_version": cleaner_version(),
            SIGNATURES: self.signatures,
        }
        where = ", ".join(f"dump={v['dump']}/wiki={v['wiki']}" for v in published) or "nothing"
        tail = f"; {run.records_skipped:,} skipped ({counts_line(skipped)})" if skipped else ""
        if run.extra["pages_reused"]:
            tail += f"; {run.extra['pages_reused']:,} unchanged page(s) copied from dump(s) " + ", ".join(
                sorted(set(self.reused_from.values()))
            )
        if documents:
            wikis = ", ".join(sorted({d["wiki"] or "unknown" for d in documents}))
            tail += (
                f"; {len(documents)} more <mediawiki> document(s) in the input ({wikis}): their pages are quarantined "
                "(second_document); split such inputs into one file per document"
            )
        return self.finish(run, f"extract: {run.records_out:,} pages written ({where})", published, quarantined,
                           tail=tail)  # fmt: skip

    def _set_aside_repeated_pages(
        self, run_id: str, values: dict[str, str], sources: dict[str, str]
    ) -> list[Quarantined]:
        """Keep the first copy of every page id (in input, then split order) and quarantine the others as
        ``duplicate_key``: a dump that repeats a page (two exports of one wiki joined, a damaged file) must
        not give ``pages`` two rows with one key."""
        staged = self.warehouse.staged_partition(run_id, PAGES, values)
        copies = later_copies(storage.list_files(staged, ".parquet"), PAGES.key)
        problems = []
        for path, rows in sorted(copies.items()):
            kept, taken = split_rows(path, rows)
            write_table(path, kept)
            for row_no, page in zip(sorted(rows), taken.select(["page_id", "title"]).to_pylist(), strict=True):
                detail = (
                    f"page_id {page['page_id']} ({page['title']!r}) was already written from an earlier page of "
                    "this dump, which is kept; this copy was not"
                )
                source, page_id = sources[storage.name(path)], str(page["page_id"])
                problems.append(Quarantined(source, row_no, "duplicate_key", detail, page_id, page["title"]))
        if problems:
            log.warning("extract: %s repeats %d page id(s); later copies quarantined (duplicate_key)",
                        "/".join(values.values()), len(problems))  # fmt: skip
        return problems


__all__ = ["ExtractConfig", "ExtractStage", "extract_task", "quarantine_row"]
