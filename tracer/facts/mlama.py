"""Read mLAMA's layout: ``<lang>/<relation>.jsonl`` (one triple per line) and ``<lang>/templates.jsonl``.

Every line becomes a ``Fact`` or a ``Quarantined`` record with a reason; nothing is dropped
silently. Blank lines are not records. Labels lose surrounding whitespace and nothing else.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from tracer import storage
from tracer.errors import InputNotFound
from tracer.records import Fact, Quarantined

GOOGLE_RE = frozenset({"place_of_birth", "place_of_death", "date_of_birth"})
REQUIRED = ("uuid", "sub_label", "obj_label", "sub_uri", "obj_uri")
MAX_LINE_BYTES = 1 << 20
TEMPLATES = "templates.jsonl"


def dataset_of(relation: str) -> str:
    return "GoogleRE" if relation in GOOGLE_RE else "TREx"


class MlamaReader:
    """One mLAMA directory; ``read(lang)`` yields that language's facts and quarantined lines."""

    def __init__(self, root: str | Path) -> None:
        self.root = storage.normalize(root)
        if not storage.is_dir(self.root):
            raise InputNotFound(f"mLAMA directory {self.root} does not exist")
        found = storage.list_files(self.root, ".jsonl", recursive=True)
        self._files = [f for f in found if len(storage.relative(f, self.root).split("/")) == 2]

    def languages(self) -> list[str]:
        """Every subdirectory holding ``.jsonl`` files is a language (its name is the language code)."""
        return sorted({storage.relative(f, self.root).split("/")[0] for f in self._files})

    def files(self, lang: str) -> list[str]:
        """The language's ``.jsonl`` files, templates included, sorted."""
        return [f for f in self._files if storage.relative(f, self.root).split("/")[0] == lang]

    def relation_files(self, lang: str) -> list[str]:
        return [f for f in self.files(lang) if storage.name(f) != TEMPLATES]

    def read(self, lang: str) -> Iterator[Fact | Quarantined]:
        templates, bad_templates = self._templates(lang)
        yield from bad_templates
        seen: dict[str, str] = {}
        for path in self.relation_files(lang):
            relation = storage.name(path).removesuffix(".jsonl")
            source = f"{lang}/{storage.name(path)}"
            for line_no, obj, problem in _json_lines(path, source):
                if problem is not None:
                    yield problem
                    continue
                record = _fact(obj, relation, templates.get(relation), source, line_no)
                if isinstance(record, Fact) and record.uuid in seen:
                    record = _bad(source, line_no, "duplicate_uuid", f"{record.uuid} is also {seen[record.uuid]}", obj)
                elif isinstance(record, Fact):
                    seen[record.uuid] = f"{source}:{line_no}"
                yield record

    def _templates(self, lang: str) -> tuple[dict[str, str], list[Quarantined]]:
        path = storage.join(self.root, lang, TEMPLATES)
        templates: dict[str, str] = {}
        bad: list[Quarantined] = []
        if path not in self._files:
            return templates, bad
        source = f"{lang}/templates.jsonl"
        for line_no, obj, problem in _json_lines(path, source):
            if problem is not None:
                bad.append(problem)
                continue
            relation, template = obj.get("relation"), obj.get("template")
            if not isinstance(relation, str) or not relation.strip() or not isinstance(template, str):
                bad.append(_bad(source, line_no, "missing_field", "a template needs string 'relation' and 'template'"))
            elif "[X]" not in template or "[Y]" not in template:
                bad.append(_bad(source, line_no, "bad_template", f"template {template!r} lacks [X] or [Y]"))
            elif relation in templates:
                bad.append(_bad(source, line_no, "duplicate_template", f"second template for {relation}"))
            else:
                templates[relation] = template
        return templates, bad


def _fact(obj: dict, relation: str, template: str | None, source: str, line_no: int) -> Fact | Quarantined:
    missing = [k for k in REQUIRED if not isinstance(obj.get(k), str)]
    if missing:
        return _bad(source, line_no, "missing_field", f"missing or non-string fields: {', '.join(missing)}", obj)
    empty = [k for k in ("sub_label", "obj_label", "uuid") if not obj[k].strip()]
    if empty:
        return _bad(source, line_no, "empty_label", f"empty or whitespace-only: {', '.join(empty)}", obj)
    return Fact(
        uuid=obj["uuid"].strip(),
        relation=relation,
        subject_label=obj["sub_label"].strip(),
        subject_uri=obj["sub_uri"].strip(),
        object_label=obj["obj_label"].strip(),
        object_uri=obj["obj_uri"].strip(),
        template=template,
        dataset=dataset_of(relation),
        source=source,
        line_no=line_no,
    )


def _open(path: str) -> BinaryIO:
    """A local file as it is; a file on a store read whole (mLAMA's files are small)."""
    return open(path, "rb") if storage.is_local(path) else io.BytesIO(storage.read_bytes(path))


def _json_lines(path: str, source: str) -> Iterator[tuple[int, dict, Quarantined | None]]:
    """(line number, object, problem) for every non-blank line; a problem means the object is unusable."""
    with _open(path) as f:
        line_no = 0
        while raw := f.readline(MAX_LINE_BYTES + 1):
            line_no += 1
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                while (rest := f.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                    pass
                yield line_no, {}, _bad(source, line_no, "line_too_long", f"line longer than {MAX_LINE_BYTES} bytes")
                continue
            if line_no == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                yield line_no, {}, _bad(source, line_no, "invalid_utf8", str(err), snippet=raw[:200])
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as err:
                yield line_no, {}, _bad(source, line_no, "malformed_json", str(err), snippet=raw[:200])
                continue
            if not isinstance(obj, dict):
                yield line_no, {}, _bad(source, line_no, "malformed_json", "not a JSON object", snippet=raw[:200])
                continue
            yield line_no, obj, None


def _bad(
    source: str, line_no: int, reason: str, detail: str, obj: dict | None = None, snippet: bytes | None = None
) -> Quarantined:
    if snippet is None and obj is not None:
        snippet = json.dumps(obj, ensure_ascii=False)[:200].encode("utf-8")
    record_id = obj.get("uuid") if obj and isinstance(obj.get("uuid"), str) else None
    return Quarantined(
        source=source,
        position=line_no,
        reason=reason,
        detail=detail,
        record_id=record_id,
        snippet=snippet.decode("utf-8", "backslashreplace") if snippet is not None else None,
    )
