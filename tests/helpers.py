"""Build small MediaWiki dumps in tests, with any damage a test needs."""

from __future__ import annotations

import bz2
import re
from pathlib import Path

from tracer.tokenization.wordpiece import train_wordpiece  # noqa: F401 - re-exported for the tests

HEADER = """<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" version="0.10" xml:lang="en">
  <siteinfo>
    <sitename>Wikipedia</sitename>
    <dbname>{dbname}</dbname>
    <base>https://en.wikipedia.org/wiki/Main_Page</base>
    {namespaces}
  </siteinfo>
"""
NAMESPACES = """<namespaces>
      <namespace key="0" case="first-letter" />
      <namespace key="1" case="first-letter">Talk</namespace>
      <namespace key="6" case="first-letter">File</namespace>
      <namespace key="14" case="first-letter">Category</namespace>
    </namespaces>"""


def page_xml(page_id: int, title: str, text: str | None, ns: int | None = 0, redirect: bool = False) -> str:
    ns_el = f"<ns>{ns}</ns>" if ns is not None else ""
    red = f'<redirect title="{title} target" />' if redirect else ""
    text_el = f'<text bytes="{len(text)}" xml:space="preserve">{text}</text>' if text is not None else ""
    return (
        f"  <page>\n    <title>{title}</title>\n    {ns_el}\n    <id>{page_id}</id>\n    {red}\n"
        f"    <revision>\n      <id>{page_id * 10}</id>\n      {text_el}\n    </revision>\n  </page>\n"
    )


def dump_xml(pages: list[str], dbname: str = "testwiki", namespaces: bool = True, prolog: str = "") -> str:
    head = HEADER.format(dbname=dbname, namespaces=NAMESPACES if namespaces else "")
    return prolog + head + "".join(pages) + "</mediawiki>\n"


def write_dump(path: Path, xml: str | bytes, compress: bool = False) -> Path:
    """Write a dump; compressed ones use 100 kB bz2 blocks so that small dumps still have several."""
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    path.write_bytes(bz2.compress(data, compresslevel=1) if compress else data)
    return path


def article_count(xml: bytes) -> int:
    """Articles counted independently of the extractor: ns 0 (or no ns and no prefix) and not a redirect."""
    count = 0
    for page in re.findall(rb"<page>.*?</page>", xml, re.DOTALL):
        ns = re.search(rb"<ns>(-?\d+)</ns>", page)
        if ns is None:
            title = re.search(rb"<title>(.*?)</title>", page).group(1)
            is_article = b":" not in title
        else:
            is_article = ns.group(1) == b"0"
        if is_article and b"<redirect" not in page:
            count += 1
    return count


def write_mlama(root: Path, lang: str, relations: dict[str, list[tuple[str, str]]], templates: bool = True) -> Path:
    """An mLAMA-format language directory: one ``<relation>.jsonl`` per relation and ``templates.jsonl``."""
    import json

    directory = root / lang
    directory.mkdir(parents=True, exist_ok=True)
    for relation, pairs in relations.items():
        lines = [
            json.dumps(
                {
                    "sub_uri": f"Q{n}1",
                    "obj_uri": f"Q{n}2",
                    "sub_label": sub,
                    "obj_label": obj,
                    "lineid": n,
                    "uuid": f"{relation}-{n}",
                },
                ensure_ascii=False,
            )
            for n, (sub, obj) in enumerate(pairs)
        ]
        (directory / f"{relation}.jsonl").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    if templates:
        rows = [json.dumps({"relation": r, "template": "[X] is related to [Y] ."}) for r in relations]
        (directory / "templates.jsonl").write_text("".join(r + "\n" for r in rows), encoding="utf-8")
    return directory


def damage_a_published_file(wh, table, values: dict, name: str) -> str:
    """Publish the partition again with one more (empty) file called ``name``, then overwrite that file with bytes
    that are not Parquet: a file damaged on disk after its commit. Returns its path."""
    import pyarrow.parquet as pq

    from tracer import storage
    from tracer.warehouse import write_table

    rows = pq.read_table(wh.files(table, values)[0])
    staged = wh.staged_partition("damaged", table, values)
    write_table(storage.join(staged, "part-000-00000.parquet"), rows)
    write_table(storage.join(staged, name), rows.slice(0, 0))
    wh.publish("damaged", [(table, values)])
    [damaged] = [f for f in wh.files(table, values) if f.endswith(name)]
    storage.write_bytes(damaged, b"PAR1 this is not parquet")
    return damaged


def table_rows(warehouse: str) -> dict[str, list]:
    """Every table but ``runs``, as sorted rows without run ids: what two runs of the same thing must share."""
    from schemas import RUNS, TABLES
    from tracer.warehouse import Warehouse

    wh = Warehouse(warehouse)
    return {
        table.name: sorted(
            repr(sorted((k, v) for k, v in row.items() if k != "run_id")) for row in wh.read(table).to_pylist()
        )
        for table in TABLES.values()
        if table is not RUNS
    }
