"""Which link prefixes point to another wiki, not to a page of this one.

Interlanguage links (``[[fr:Paris]]``, ``[[simple:Sport]]``) are moved out of the text by MediaWiki
and interwiki links (``[[commons:File:X]]``) lead elsewhere; WikiExtractor drops both from the
text, and so does factrace. A page dump's ``<siteinfo>`` lists namespaces but no interwiki map, so
the prefixes are known here:

* language editions: the language codes MediaWiki knows (its ``Names.php``, which "determines
  interwikis"; ``war``, ``zh-min-nan``, ``simple``, ``be-x-old``), and the aliases Wikimedia's
  interwiki map adds (``jp`` for ``ja``). A word that merely looks like a code is no prefix:
  ``[[Mao: The Unknown Story]]`` is a link to an article;
* interwiki prefixes: MediaWiki's default map (``maintenance/interwiki.list``) and the short forms
  Wikimedia wikis use for their sister projects.
"""

from __future__ import annotations

from tracer.wikitext.mediawiki_names import LANGUAGE_CODES

WIKIMEDIA_LANGUAGE_ALIASES = frozenset({"cz", "dk", "jp", "epo", "minnan", "zh-cfr", "tokipona"})
INTERWIKI_PREFIXES = frozenset(
    {
        # MediaWiki's maintenance/interwiki.list
        "acronym", "advogato", "arxiv", "c2find", "cache", "commons", "dictionary", "doi", "drumcorpswiki",
        "dwjwiki", "elibre", "emacswiki", "foldoc", "foxwiki", "freebsdman", "gentoo-wiki", "google",
        "googlegroups", "hammondwiki", "hrwiki", "imdb", "kmwiki", "linuxwiki", "lojban", "lqwiki", "meatball",
        "mediawikiwiki", "memoryalpha", "metawiki", "metawikimedia", "mozillawiki", "mw", "oeis", "openwiki",
        "pmid", "pythoninfo", "rfc", "s23wiki", "seattlewireless", "senseislibrary", "shoutwiki", "squeak",
        "tmbw", "tmnet", "theopedia", "twiki", "uncyclopedia", "unreal", "usemod", "wiki", "wikia",
        "wikibooks", "wikidata", "wikif1", "wikihow", "wikinfo", "wikimedia", "wikinews", "wikiquote",
        "wikisource", "wikispecies", "wikiversity", "wikivoyage",
        # Wikimedia's sister-project short forms
        "b", "c", "d", "f", "m", "meta", "n", "q", "s", "v", "voy", "species", "wmf", "foundation",
        "incubator", "outreach", "phab", "phabricator", "wikitech", "testwiki", "betawikiversity", "oldwikisource",
        "wikifunctions", "mediawiki", "wikimania",
    }
)  # fmt: skip


def is_language_prefix(prefix: str) -> bool:
    return prefix in LANGUAGE_CODES or prefix in WIKIMEDIA_LANGUAGE_ALIASES


def is_interwiki_prefix(prefix: str) -> bool:
    """``prefix`` (casefolded, spaces not underscores) names another wiki: a language edition or a project."""
    return is_language_prefix(prefix) or prefix in INTERWIKI_PREFIXES
