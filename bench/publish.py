"""What an atomic publish costs: a Delta commit (factrace's) against the rename of staged folders that factrace
used before (local disk only: an object store has no rename) and against a JSON manifest swapped in by one
atomic write (the other candidate), same staged files, same run.

Each round stages ``--partitions`` partitions of ``--files`` small Parquet files each, then publishes them
all (replacing the previous round's). Reported: seconds per publish; for Delta also the key check
every factrace publish does first (reading the staged files' key columns), and reading the table's
current file list back (what every reader pays first). ``--s3`` adds a run against an S3 server (moto) on
127.0.0.1.

    python bench/publish.py [--partitions 50] [--files 4] [--rounds 5] [--s3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
import uuid

import pyarrow as pa
from _common import OUT, Timer, emit

from schemas import PAGES
from schemas.arrow import arrow_schema
from tracer import storage
from tracer.warehouse import Warehouse, write_table


def rows(first: int) -> pa.Table:
    data = [
        {"page_id": i, "rev_id": 1, "title": "t", "text": "x" * 200, "content_sha1": "s", "char_count": 200,
         "paragraph_count": 1}
        for i in range(first, first + 100)
    ]  # fmt: skip
    return pa.Table.from_pylist(data, schema=arrow_schema(PAGES))


def median(values: list[float]) -> float:
    return round(sorted(values)[len(values) // 2], 4)


def partitions(n: int) -> list[dict[str, str]]:
    return [{"dump": "d", "wiki": f"w{i:03d}wiki"} for i in range(n)]


def stage(root: str, run: str, parts: list[dict[str, str]], files: int) -> list[str]:
    folders = []
    for values in parts:
        folder = storage.join(root, "pages", f"dump={values['dump']}", f"wiki={values['wiki']}", run)
        for f in range(files):
            write_table(storage.join(folder, f"part-{f:03d}.parquet"), rows(f * 100))
        folders.append(folder)
    return folders


def delta_rounds(root: str, parts: list[dict[str, str]], files: int, rounds: int) -> dict:
    wh = Warehouse(root)
    publish, read, keys = [], [], []
    for r in range(rounds):
        run = f"run-{r}-{uuid.uuid4().hex[:6]}"
        for values in parts:
            wh.staged_partition(run, PAGES, values)
        stage(root, run, parts, files)
        with Timer() as t:
            wh.check_keys(run, [(PAGES, v) for v in parts])
        keys.append(t.seconds)
        with Timer() as t:
            wh.publish(run, [(PAGES, v) for v in parts])
        publish.append(t.seconds)
        with Timer() as t:
            Warehouse(root).partitions(PAGES)
        read.append(t.seconds)
    return {"key_check_s": median(keys), "publish_s": median(publish), "first_read_s": median(read)}


def rename_rounds(root: str, parts: list[dict[str, str]], files: int, rounds: int) -> dict:
    """The old publish: move each staged partition folder over the published one (old one to a trash)."""
    times = []
    for r in range(rounds):
        run = f"run-{r}"
        staged = stage(os.path.join(root, "_staging"), run, parts, files)
        started = time.perf_counter()
        for folder, values in zip(staged, parts, strict=True):
            final = os.path.join(root, "pages", f"dump={values['dump']}", f"wiki={values['wiki']}")
            if os.path.exists(final):
                trash = os.path.join(root, "_trash", uuid.uuid4().hex)
                os.makedirs(os.path.dirname(trash), exist_ok=True)
                os.replace(final, trash)
            os.makedirs(os.path.dirname(final), exist_ok=True)
            os.replace(folder, final)
        times.append(time.perf_counter() - started)
        shutil.rmtree(os.path.join(root, "_trash"), ignore_errors=True)
    return {"publish_s": median(times), "atomic": "per partition, local disk only"}


def manifest_rounds(root: str, parts: list[dict[str, str]], files: int, rounds: int) -> dict:
    """The other candidate: the run's file list written as one JSON object, then one pointer object naming it."""
    times = []
    for r in range(rounds):
        run = f"run-{r}-{uuid.uuid4().hex[:6]}"
        staged = stage(root, run, parts, files)
        started = time.perf_counter()
        listing = [f for folder in staged for f in storage.list_files(folder, ".parquet")]
        manifest = storage.join(root, "pages", "_manifests", f"{run}.json")
        storage.write_text(manifest, json.dumps(listing))
        storage.write_text(storage.join(root, "pages", "_current"), manifest)
        times.append(time.perf_counter() - started)
    return {"publish_s": median(times)}


def s3_server() -> tuple[object, str]:
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    os.environ.update(AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", AWS_ACCESS_KEY_ID="bench",
                      AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1", AWS_ALLOW_HTTP="true")  # fmt: skip
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    import pyarrow.fs as pafs

    pafs.FileSystem.from_uri("s3://bench?allow_bucket_creation=true")[0].create_dir("bench-publish")
    return server, "s3://bench-publish"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--partitions", type=int, default=50)
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--s3", action="store_true")
    args = parser.parse_args()
    parts = partitions(args.partitions)
    local = OUT / "publish"
    result: dict = {"benchmark": "publish", "partitions": args.partitions, "files_per_partition": args.files}
    for name, fn in (("delta", delta_rounds), ("rename", rename_rounds), ("manifest", manifest_rounds)):
        shutil.rmtree(local, ignore_errors=True)
        local.mkdir(parents=True)
        result[f"local_{name}"] = fn(str(local), parts, args.files, args.rounds)
    if args.s3:
        server, bucket = s3_server()
        try:
            result["s3_delta"] = delta_rounds(f"{bucket}/delta", parts, args.files, args.rounds)
            result["s3_manifest"] = manifest_rounds(f"{bucket}/manifest", parts, args.files, args.rounds)
        finally:
            server.terminate()
    emit(result)


if __name__ == "__main__":
    main()
