"""Decompression of the shared dumps: Python's ``bz2`` against ``indexed_bzip2``, same run, same files.

``indexed_bzip2`` (a parallel bz2 decoder) is installed in an environment of its own under
``bench/.venvs`` and never imported into factrace's. Both decoders read every ``.bz2`` dump of the
shared data whole; the output must be byte-identical (SHA-256), and the figures are MB/s of
decompressed output, on one core (``parallelization=1``) and on every core of the machine. Best of
three runs each.

    python bench/bz2_decoders.py
"""

from __future__ import annotations

import json
import os
import subprocess

from _common import emit, shared, tool_python

REQUIREMENT = "indexed_bzip2==1.7.0"
CHILD = r"""
import bz2, hashlib, io, json, os, sys, time
import indexed_bzip2

def best(fn):
    times, out = [], None
    for _ in range(3):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out

def ibz2(path, threads):
    with indexed_bzip2.open(path, parallelization=threads) as f:
        return f.read()

rows = []
for path in sys.argv[1:]:
    seconds, data = best(lambda: bz2.decompress(open(path, "rb").read()))
    row = {"file": os.path.basename(path), "compressed_mb": round(os.path.getsize(path) / 1e6, 3),
           "mb": round(len(data) / 1e6, 3), "python_bz2_mb_s": round(len(data) / 1e6 / seconds, 2)}
    digest = hashlib.sha256(data).hexdigest()
    for threads in (1, os.cpu_count()):
        seconds, out = best(lambda: ibz2(path, threads))
        row[f"indexed_bzip2_{threads}_cores_mb_s"] = round(len(out) / 1e6 / seconds, 2)
        row[f"identical_{threads}_cores"] = hashlib.sha256(out).hexdigest() == digest
    rows.append(row)
print(json.dumps(rows))
"""


def main() -> None:
    dumps = sorted(str(p) for p in (shared() / "wiki").glob("*.xml.bz2"))
    python = tool_python("indexed_bzip2", REQUIREMENT)
    done = subprocess.run([str(python), "-c", CHILD, *dumps], capture_output=True, text=True, check=True)
    rows = json.loads(done.stdout)
    cores = os.cpu_count()
    total = sum(r["mb"] for r in rows)

    def overall(field: str) -> float:
        return round(total / sum(r["mb"] / r[field] for r in rows), 2)

    summary = {
        "mb": round(total, 2),
        "python_bz2_mb_s": overall("python_bz2_mb_s"),
        "indexed_bzip2_1_core_mb_s": overall("indexed_bzip2_1_cores_mb_s"),
        f"indexed_bzip2_{cores}_cores_mb_s": overall(f"indexed_bzip2_{cores}_cores_mb_s"),
        "identical": all(r["identical_1_cores"] and r[f"identical_{cores}_cores"] for r in rows),
    }
    summary["ratio_1_core"] = round(summary["indexed_bzip2_1_core_mb_s"] / summary["python_bz2_mb_s"], 2)
    summary[f"ratio_{cores}_cores"] = round(
        summary[f"indexed_bzip2_{cores}_cores_mb_s"] / summary["python_bz2_mb_s"], 2
    )
    emit({"benchmark": "bz2_decoders", "requirement": REQUIREMENT, "cores": cores, "files": rows, "overall": summary})


if __name__ == "__main__":
    main()
