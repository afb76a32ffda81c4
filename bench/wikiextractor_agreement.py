"""Line agreement of our clean text with WikiExtractor's, per shared dump.

Installs WikiExtractor (>= 3.1, AGPL; only run, never imported) in its own
environment under bench/.venvs, extracts every real dump with it (JSON output;
once with default options, which expand templates defined in the dump, and once
with ``--no-templates``, as factrace), and compares page by page: the share of our lines also
found among WikiExtractor's lines of the same page, and vice versa. Both sides
are compared after HTML-unescaping, removing double quotes (WikiExtractor turns
italics into quotes; we drop the markup), removing WikiExtractor's ``formula_N`` /
``codice_N`` placeholders (we drop math and code) and collapsing whitespace. Examples of
lines found on one side only (against the default run) go to
bench/out/agreement/<dump>.txt.

    python bench/wikiextractor_agreement.py
"""

from __future__ import annotations

import argparse
import bz2
import html
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import OUT, REPO, emit, real_dumps, tool_python

from tracer.dumps.compression import StreamEnd, read_chunks
from tracer.dumps.page_parser import parse_page
from tracer.dumps.page_scanner import PageBlob, scan_pages
from tracer.dumps.siteinfo import parse_siteinfo
from tracer.extraction import PageExtractor

_WS = re.compile(r"\s+")
_PLACEHOLDER = re.compile(r"\b(?:formula|codice)_\d+\b")  # WikiExtractor's math/code stand-ins; we drop both


def wikiextractor() -> Path:
    return tool_python("wikiextractor", "wikiextractor>=3.1")


def normalize(line: str) -> str:
    line = _PLACEHOLDER.sub("", html.unescape(line)).replace('"', "")
    line = re.sub(r" ([,:.)\]»])", r"\1", _WS.sub(" ", line))
    return _WS.sub(" ", line).strip()


def theirs(python: Path, dump: Path, templates: bool) -> dict[int, list[str]]:
    with tempfile.TemporaryDirectory() as out:
        cmd = [str(python), "-m", "wikiextractor.WikiExtractor", str(dump), "-o", out, "--json", "-b", "1G", "-q"]
        cmd += [] if templates else ["--no-templates"]
        subprocess.run(cmd, check=True, capture_output=True)
        docs = {}
        for path in Path(out).rglob("wiki_*"):
            for line in path.read_text(encoding="utf-8").splitlines():
                doc = json.loads(line)
                docs[int(doc["id"])] = [n for n in map(normalize, doc["text"].split("\n")) if n]
    return docs


def ours(dump: Path) -> dict[int, list[str]]:
    with bz2.open(dump) as stream:
        events = scan_pages(read_chunks(stream, StreamEnd()))
        info = parse_siteinfo(next(events).data)
        cleaner = PageExtractor(info, wiki=info.dbname).cleaner
        pages = {}
        for event in events:
            if not isinstance(event, PageBlob):
                continue
            raw = parse_page(event.data, event.offset)
            ns = raw.ns if raw.ns is not None else info.namespace_of_title(raw.title)
            if ns == 0 and not raw.redirect and raw.wikitext is not None:
                pages[raw.page_id] = [n for n in map(normalize, cleaner.paragraphs(raw.wikitext)) if n]
    return pages


def compare(a: dict[int, list[str]], b: dict[int, list[str]]) -> tuple[int, int, list[str]]:
    """Lines of ``a`` found in the same page of ``b``, all lines of ``a``, examples not found."""
    found = total = 0
    missing = []
    for page_id, lines in a.items():
        other = set(b.get(page_id, []))
        for line in lines:
            total += 1
            if line in other:
                found += 1
            elif len(missing) < 40:
                missing.append(f"[{page_id}] {line[:300]}")
    return found, total, missing


LEAKS = {
    "wikilink": re.compile(r"\[\[|\]\]"),
    "template": re.compile(r"\{\{|\}\}"),
    "table": re.compile(r"\{\||\|\}"),
    "html_tag": re.compile(r"<\s*/?\s*[A-Za-z][A-Za-z0-9]*\b[^<>]*>"),
    "external_link": re.compile(r"\[(?:https?:)?//", re.IGNORECASE),
}


def leaks(pages: dict[int, list[str]]) -> dict:
    """Markup left in the text: pages with any, and hits of each kind."""
    hits = {kind: 0 for kind in LEAKS}
    leaked = 0
    for lines in pages.values():
        found = {kind: sum(len(pattern.findall(line)) for line in lines) for kind, pattern in LEAKS.items()}
        leaked += any(found.values())
        for kind, n in found.items():
            hits[kind] += n
    return {"pages": leaked, **hits}


def cases(python: Path) -> dict:
    """The built cases of tests/unit/test_cleaner.py through WikiExtractor: its output, as the test records it."""
    sys.path.insert(0, str(REPO))
    from tests.unit.test_cleaner import BRACKETS

    with tempfile.TemporaryDirectory() as tmp:
        pages = "".join(
            f"\n<page>\n<title>Case {i}</title>\n<ns>0</ns>\n<id>{i}</id>\n<revision>\n<id>{i}</id>\n"
            f'<text xml:space="preserve">{html.escape(text, quote=False)}</text>\n</revision>\n</page>'
            for i, (text, _, _) in enumerate(BRACKETS, 1)
        )
        names = "".join(f'\n<namespace key="{k}" case="first-letter">{n}</namespace>'
                        for k, n in ((6, "Αρχείο"), (10, "Template"), (14, "Κατηγορία")))  # fmt: skip
        dump = Path(tmp) / "cases.xml"
        dump.write_text(
            '<mediawiki version="0.10" xml:lang="el">\n<siteinfo>\n<dbname>elwiki</dbname>\n<namespaces>'
            f"{names}\n</namespaces>\n</siteinfo>{pages}\n</mediawiki>\n",
            encoding="utf-8",
        )
        out = Path(tmp) / "out"
        cmd = [str(python), "-m", "wikiextractor.WikiExtractor", str(dump), "-o", str(out), "--json", "-q"]
        subprocess.run([*cmd, "--no-templates"], check=True, capture_output=True)
        got = {int(d["id"]): d["text"].strip() for p in out.rglob("wiki_*")
               for d in map(json.loads, p.read_text(encoding="utf-8").splitlines())}  # fmt: skip
    mismatched = [
        {"case": i, "recorded": recorded or ours_, "wikiextractor": got.get(i)}
        for i, (_, ours_, recorded) in enumerate(BRACKETS, 1)
        if got.get(i) != (recorded or ours_)
    ]
    return {
        "cases": len(BRACKETS),
        "wikiextractor_differs_from_ours": sum(recorded is not None for _, _, recorded in BRACKETS),
        "recorded_output_wrong": mismatched,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", action="store_true", help="only check the recorded WikiExtractor outputs")
    args = parser.parse_args()
    python = wikiextractor()
    if args.cases:
        emit({"benchmark": "wikiextractor_cases", **cases(python)})
        return
    (OUT / "agreement").mkdir(parents=True, exist_ok=True)
    rows = []
    for dump in real_dumps():
        mine = ours(dump)
        row: dict = {"dump": dump.name, "pages_ours": len(mine), "leaks_ours": leaks(mine)}
        for mode in ("default", "no_templates"):
            other = theirs(python, dump, templates=mode == "default")
            found_ours, total_ours, only_ours = compare(mine, other)
            found_theirs, total_theirs, only_theirs = compare(other, mine)
            if mode == "default":
                report = ["# only in factrace", *only_ours, "", "# only in WikiExtractor", *only_theirs]
                (OUT / "agreement" / f"{dump.name}.txt").write_text("\n".join(report), encoding="utf-8")
            row[mode] = {
                "pages_wikiextractor": len(other),
                "leaks_wikiextractor": leaks(other),
                "lines_ours": total_ours,
                "lines_wikiextractor": total_theirs,
                "ours_in_wikiextractor": round(found_ours / max(1, total_ours), 4),
                "wikiextractor_in_ours": round(found_theirs / max(1, total_theirs), 4),
            }
        rows.append(row)
    version = subprocess.run([str(python), "-m", "pip", "show", "wikiextractor"], capture_output=True, text=True)
    emit(
        {
            "benchmark": "wikiextractor_agreement",
            "wikiextractor": next(
                (ln.split()[-1] for ln in version.stdout.splitlines() if ln.startswith("Version")), "?"
            ),
            "target": 0.9,
            "dumps": rows,
        }
    )


if __name__ == "__main__":
    main()
