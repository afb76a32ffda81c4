"""``factrace fetch`` against a real HTTP server on 127.0.0.1 serving a mirror tree built from the shared dumps:
a connection cut mid-file resumes, a corrupt file fails after retries naming both digests, a dump in progress
is skipped, a wiki without the multistream job falls back, a rerun downloads nothing, and a local mirror is
read in place. Bad mirrors (down, 404, 500, HTML, an incomplete status file) are one line each."""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tracer.cli import main
from tracer.fetch import FetchConfig, run_fetch

pytestmark = pytest.mark.shared_data
DATE, NEXT = "20260101", "20260201"


def entry(path: Path, url: str) -> dict:
    data = path.read_bytes()
    return {"size": len(data), "sha1": hashlib.sha1(data).hexdigest(), "md5": hashlib.md5(data).hexdigest(), "url": url}


def publish(root: Path, wiki: str, date: str, job: str, files: dict[str, Path], status: str = "done") -> None:
    folder = root / wiki / date
    folder.mkdir(parents=True, exist_ok=True)
    listed = {}
    for name, source in files.items():
        shutil.copyfile(source, folder / name)
        listed[name] = entry(folder / name, f"/{wiki}/{date}/{name}")
    jobs = {job: {"status": status, "updated": "2026-01-02 00:00:00", "files": listed}}
    (folder / "dumpstatus.json").write_text(json.dumps({"jobs": jobs, "version": "0.8"}))


@pytest.fixture(scope="module")
def mirror_tree(tmp_path_factory, shared_data) -> Path:
    """ltgwiki: a finished multistream dump and a newer one in progress; fowiki: no multistream job."""
    root = tmp_path_factory.mktemp("mirror")
    wiki = shared_data / "wiki"
    multistream = {
        f"ltgwiki-{DATE}-pages-articles-multistream.xml.bz2": wiki / "ltgwiki-pages-articles-multistream.xml.bz2",
        f"ltgwiki-{DATE}-pages-articles-multistream-index.txt.bz2": wiki
        / "ltgwiki-pages-articles-multistream-index.txt.bz2",
    }
    publish(root, "ltgwiki", DATE, "articlesmultistreamdump", multistream)
    newer = {k.replace(DATE, NEXT): v for k, v in multistream.items()}
    publish(root, "ltgwiki", NEXT, "articlesmultistreamdump", newer, status="in-progress")
    publish(
        root, "fowiki", DATE, "articlesdump", {f"fowiki-{DATE}-pages-articles.xml.bz2": wiki / "fowiki-sample.xml.bz2"}
    )
    return root


class Server:
    """The mirror over HTTP, with faults to order: cut a file's first response after some bytes, serve other
    bytes than a file holds, answer a path with an HTTP status or with HTML."""

    def __init__(self, root: Path) -> None:
        self.root, self.requests, self.cut, self.corrupt, self.status = root, [], {}, set(), {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.requests.append((self.path, self.headers.get("Range"), self.headers.get("User-Agent")))
                if self.path in server.status:
                    code, body = server.status[self.path]
                    self.send_response(code)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                path = server.root / self.path.lstrip("/")
                if path.is_dir():
                    links = "".join(f'<a href="{p.name}/">{p.name}/</a>\n' for p in sorted(path.iterdir()))
                    body = f"<html><body>{links}</body></html>".encode()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if not path.is_file():
                    self.send_error(404)
                    return
                data = path.read_bytes()
                if self.path in server.corrupt:
                    data = data[:100] + bytes(b ^ 0xFF for b in data[100:110]) + data[110:]
                start = int(self.headers["Range"].split("=")[1].rstrip("-")) if self.headers.get("Range") else 0
                self.send_response(206 if start else 200)
                self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                limit = server.cut.pop(self.path, None)
                self.wfile.write(data[start:limit] if limit else data[start:])
                if limit:
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def file_requests(self) -> list[tuple]:
        return [r for r in self.requests if r[0].endswith(".bz2")]


@pytest.fixture
def server(mirror_tree):
    s = Server(mirror_tree)
    yield s
    s.httpd.shutdown()


def test_fetch_resumes_skips_in_progress_falls_back_and_reruns_download_nothing(server, tmp_path):
    dump = f"/ltgwiki/{DATE}/ltgwiki-{DATE}-pages-articles-multistream.xml.bz2"
    server.cut[dump] = 200_000  # the first response breaks off after 200 kB
    out = run_fetch(FetchConfig(mirror=server.url, wikis=["ltgwiki", "fowiki"], dest=str(tmp_path / "dumps")))
    line, *paths = out.splitlines()
    assert line.startswith(f"fetch: 2 dump(s): ltgwiki {DATE} (2 file(s), ") and f"fowiki {DATE} (1 file(s)," in line
    assert f"skipped: ltgwiki {NEXT}: job articlesmultistreamdump is in-progress, not done" in line
    ranged = [r for r in server.file_requests() if r[0] == dump]
    assert [r[1] is None for r in ranged] == [True, False]  # resumed near where it broke off
    assert 100_000 < int(ranged[1][1].removeprefix("bytes=").rstrip("-")) <= 200_000
    assert all(r[2].startswith("factrace/") for r in server.requests)
    for path in paths:
        source = server.root / Path(path).relative_to(tmp_path / "dumps")
        assert Path(path).read_bytes() == source.read_bytes()
    assert not list((tmp_path / "dumps").rglob(".*.part"))
    server.requests.clear()
    again = run_fetch(FetchConfig(mirror=server.url, wikis=["ltgwiki", "fowiki"], dest=str(tmp_path / "dumps")))
    assert "already there" in again and server.file_requests() == []


def test_a_corrupt_download_is_retried_then_refused_with_both_digests(server, tmp_path, capsys):
    dump = f"/fowiki/{DATE}/fowiki-{DATE}-pages-articles.xml.bz2"
    server.corrupt.add(dump)
    rc = main(["fetch", "--mirror", server.url, "--wikis", "fowiki", "--dest", str(tmp_path), "--retries", "1"])
    line = capsys.readouterr().err.strip().splitlines()[-1]
    expected = json.loads((server.root / "fowiki" / DATE / "dumpstatus.json").read_text())
    sha1 = expected["jobs"]["articlesdump"]["files"][Path(dump).name]["sha1"]
    assert rc == 3 and dump in line and f"expected {sha1}" in line and "after 2 attempts" in line
    assert len([r for r in server.file_requests() if r[0] == dump]) == 2
    assert not list(tmp_path.rglob("*.bz2")) and not list(tmp_path.rglob(".*.part"))


def test_a_local_mirror_is_read_in_place(mirror_tree):
    out = run_fetch(FetchConfig(mirror=str(mirror_tree), wikis=["ltgwiki"]))
    line, path = out.splitlines()
    assert "read in place" in line and f"skipped: ltgwiki {NEXT}" in line
    assert Path(path) == mirror_tree / "ltgwiki" / DATE / f"ltgwiki-{DATE}-pages-articles-multistream.xml.bz2"


def test_bad_mirrors_are_one_line_each(server, tmp_path, capsys):
    def fetch(url: str, wiki: str = "fowiki") -> tuple[int, str]:
        rc = main(["fetch", "--mirror", url, "--wikis", wiki, "--dest", str(tmp_path)])
        return rc, capsys.readouterr().err.strip().splitlines()[-1]

    rc, line = fetch("http://127.0.0.1:9")
    assert rc == 8 and "cannot be reached" in line
    rc, line = fetch(server.url, "nowiki")
    assert rc == 3 and "HTTP 404" in line
    server.status["/fowiki/"] = (500, b"oops")
    rc, line = fetch(server.url)
    assert rc == 8 and "HTTP 500" in line
    server.status.clear()
    server.status[f"/fowiki/{DATE}/dumpstatus.json"] = (200, b"<html>maintenance</html>")
    rc, line = fetch(server.url)
    assert rc == 3 and "not JSON" in line
    status = json.loads((server.root / "ltgwiki" / DATE / "dumpstatus.json").read_text())
    del status["jobs"]["articlesmultistreamdump"]["files"][f"ltgwiki-{DATE}-pages-articles-multistream-index.txt.bz2"]
    server.status[f"/ltgwiki/{DATE}/dumpstatus.json"] = (200, json.dumps(status).encode())
    server.status[f"/ltgwiki/{NEXT}/dumpstatus.json"] = (404, b"")
    rc, line = fetch(server.url, "ltgwiki")
    assert rc == 3 and "status file is incomplete" in line
    assert not list(tmp_path.rglob("*.bz2"))  # nothing was fetched for any of them
