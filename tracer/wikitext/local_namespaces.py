"""A wiki's local names for its file and category namespaces, known without its ``<siteinfo>``.

A dump without siteinfo (a page fragment wrapped by hand, an old export) still writes
``[[Αρχείο:X.jpg|thumb|…]]`` or ``[[Файл:…]]``; MediaWiki's own names for every language, with their
aliases (``Εικόνα`` beside ``Αρχείο``) that no siteinfo lists, let the cleaner remove those links.
"""

from __future__ import annotations

from tracer.wikitext.mediawiki_names import NAMESPACE_NAMES

# Wikis whose code is not their content language's MediaWiki code.
WIKI_LANGUAGE = {
    "simple": "en", "no": "nb", "als": "gsw", "zh-min-nan": "nan", "zh-yue": "yue", "zh-classical": "lzh",
    "be-x-old": "be-tarask", "bat-smg": "sgs", "fiu-vro": "vro", "roa-rup": "rup", "cbk-zam": "cbk-zam",
}  # fmt: skip


def local_names(wiki_language: str) -> set[str]:
    """Casefolded local media, file and category namespace names of a wiki (``el``, ``zh-yue``, ...)."""
    code = WIKI_LANGUAGE.get(wiki_language, wiki_language)
    return {name.casefold() for name in NAMESPACE_NAMES.get(code, ())}
