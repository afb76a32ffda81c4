"""How time and bytes grow with the input: extract, segment, facts and trace on 1×, 4× and 16× the shared dumps.

Each factor k gets dump files of its own in which every page of the shared dumps (the first ``--pages`` of
each) appears k times, replica r with page id ``id + r·10⁹``, so every stage reads k times the input. A
least-squares fit of ``seconds = fixed + per_unit · k`` per stage separates the fixed cost (Spark's jobs,
planning, building the automaton) from the cost that grows with the input; ``linearity`` is
``seconds(16×) / (16 · per_unit + fixed)`` (1.0: exactly linear) and ``growth`` is ``seconds(16×) /
seconds(1×)``. Bytes per table come from the Delta log. The dumps are written uncompressed: bz2 costs
the same per byte at every size and bench/extract.py measures it.

    python bench/scale.py [--factors 1 4 16] [--pages 200] [--master local[2]]
"""

from __future__ import annotations

import argparse
import bz2
import json
import os
import re
import shutil
from pathlib import Path

from _common import OUT, Timer, emit, real_dumps, shared

from schemas import TABLES
from tracer.spark.runner import SparkRunner
from tracer.spark.session import spark_session
from tracer.stages.extract import ExtractConfig, ExtractStage
from tracer.stages.facts import FactsConfig, FactsStage
from tracer.stages.segment import SegmentConfig, SegmentStage
from tracer.stages.trace import TraceConfig, TraceStage
from tracer.warehouse import Warehouse

PAGE = re.compile(rb"<page>.*?</page>", re.S)
FIRST_ID = re.compile(rb"<id>(\d+)</id>")
STAGES = ("extract", "segment", "facts", "trace")


def split_dump(path: Path, pages: int) -> tuple[bytes, list[bytes], bytes]:
    """The XML before the first page, the first ``pages`` pages, and the closing tag."""
    data = bz2.decompress(path.read_bytes()) if path.suffix == ".bz2" else path.read_bytes()
    found = PAGE.findall(data)[:pages]
    head = data[: data.index(b"<page>")]
    return head, found, b"</mediawiki>\n"


def replicated(head: bytes, pages: list[bytes], k: int) -> bytes:
    out = [head]
    for r in range(k):
        for page in pages:
            out.append(FIRST_ID.sub(lambda m, r=r: b"<id>%d</id>" % (int(m.group(1)) + r * 10**9), page, count=1))
    out.append(b"</mediawiki>\n")
    return b"\n".join(out)


def run_factor(k: int, parts: dict, runner: SparkRunner, tokenizer: str, mlama: str, langs: list[str]) -> dict:
    folder = OUT / f"scale-{k}"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "dumps").mkdir(parents=True)
    dumps = []
    for name, (head, pages, _) in parts.items():
        path = folder / "dumps" / f"{name}-scale.xml"
        path.write_bytes(replicated(head, pages, k))
        dumps.append(str(path))
    wh = str(folder / "wh")
    seconds = {}
    with Timer() as t:
        ExtractStage(ExtractConfig(dumps=dumps, warehouse=wh, dump="scale"), runner).run()
    seconds["extract"] = t.seconds
    with Timer() as t:
        SegmentStage(SegmentConfig(warehouse=wh, tokenizer=tokenizer), runner).run()
    seconds["segment"] = t.seconds
    with Timer() as t:
        FactsStage(FactsConfig(mlama=mlama, warehouse=wh, langs=langs), runner).run()
    seconds["facts"] = t.seconds
    with Timer() as t:
        TraceStage(TraceConfig(warehouse=wh, mode="tokens"), runner).run()
    seconds["trace"] = t.seconds
    warehouse = Warehouse(wh)
    table_bytes = {table.name: warehouse.table_bytes(table) for table in warehouse.tables()}
    input_mb = sum(Path(d).stat().st_size for d in dumps) / 1e6
    return {"factor": k, "input_mb": round(input_mb, 2), "seconds": seconds, "bytes": table_bytes}


MEASURE = """
import sys
from tracer.stages.common import LocalRunner
from tracer.stages.extract import ExtractConfig, ExtractStage
from tracer.stages.facts import FactsConfig, FactsStage
from tracer.stages.segment import SegmentConfig, SegmentStage
from tracer.stages.trace import TraceConfig, TraceStage
stage, wh, tokenizer, mlama, langs, *dumps = sys.argv[1:]
runner = LocalRunner()
if stage == "extract":
    ExtractStage(ExtractConfig(dumps=dumps, warehouse=wh, dump="scale"), runner).run()
elif stage == "segment":
    SegmentStage(SegmentConfig(warehouse=wh, tokenizer=tokenizer), runner).run()
elif stage == "facts":
    FactsStage(FactsConfig(mlama=mlama, warehouse=wh, langs=langs.split(",")), runner).run()
else:
    TraceStage(TraceConfig(warehouse=wh, mode="tokens"), runner).run()
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork and exec
print(next(int(line.split()[1]) // 1024 for line in open("/proc/self/status") if line.startswith("VmHWM")))
"""


def peak_memory(folder: Path, tokenizer: str, mlama: str, langs: list[str]) -> dict[str, int]:
    """Peak resident MB of one process running each stage's tasks one after another (LocalRunner) on the largest
    input: what one executor core needs for the biggest task, plus the driver's share."""
    import subprocess
    import sys

    dumps = sorted(str(p) for p in (folder / "dumps").iterdir())
    wh = str(folder / "wh-memory")
    shutil.rmtree(wh, ignore_errors=True)
    peaks = {}
    for stage in STAGES:
        argv = [sys.executable, "-c", MEASURE, stage, wh, tokenizer, mlama, ",".join(langs), *dumps]
        out = subprocess.run(
            argv, capture_output=True, text=True, check=True, env={**os.environ, "RAYON_NUM_THREADS": "1"}
        )
        peaks[stage] = int(out.stdout.strip().splitlines()[-1])
    return peaks


def fit(factors: list[int], values: list[float]) -> tuple[float, float]:
    """Least squares ``value = fixed + per_unit · factor``."""
    n = len(factors)
    mean_x, mean_y = sum(factors) / n, sum(values) / n
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(factors, values, strict=True)) / sum(
        (x - mean_x) ** 2 for x in factors
    )
    return mean_y - slope * mean_x, slope


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--factors", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--pages", type=int, default=200, help="pages of each shared dump in the 1× input")
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args()
    data = shared()
    parts = {}
    for path in real_dumps():
        name = path.name.split("-")[0].split(".")[0]
        if name not in parts:
            parts[name] = split_dump(path, args.pages)
    tokenizer = str(data / "tokenizers" / "xlm-roberta-tokenizer.json")
    langs = sorted({name.removesuffix("wiki") for name in parts} & {p.name for p in (data / "mlama1.1").iterdir()})
    runner = SparkRunner(spark_session("bench-scale", args.master))
    run_factor(args.factors[0], parts, runner, tokenizer, str(data / "mlama1.1"), langs)  # warm-up, not counted
    runs = [run_factor(k, parts, runner, tokenizer, str(data / "mlama1.1"), langs) for k in args.factors]
    memory = peak_memory(OUT / f"scale-{args.factors[-1]}", tokenizer, str(data / "mlama1.1"), langs)
    summary = {}
    for stage in STAGES:
        values = [r["seconds"][stage] for r in runs]
        fixed, per_unit = fit(args.factors, values)
        last = args.factors[-1]
        summary[stage] = {
            "fixed_s": round(fixed, 2),
            "per_factor_s": round(per_unit, 3),
            "growth": round(values[-1] / values[0], 2),
            "linearity": round(values[-1] / (fixed + per_unit * last), 3),
        }
    result = {
        "benchmark": "scale",
        "master": args.master,
        "pages_per_dump": args.pages,
        "wikis": sorted(parts),
        "runs": runs,
        "fit": summary,
        "peak_rss_mb_one_process": memory,
        "bytes_growth": {
            t: round(runs[-1]["bytes"].get(t, 0) / max(1, runs[0]["bytes"].get(t, 0)), 2)
            for t in sorted(runs[-1]["bytes"])
            if t in TABLES
        },
    }
    (OUT / "scale.json").write_text(json.dumps(result, indent=2, sort_keys=True))
    emit(result)


if __name__ == "__main__":
    main()
