"""Text normalizers, registered under versioned names; the name is written into every output row.

``nfkc_casefold_v1``: NFKC, Unicode casefold, controls to spaces, runs of whitespace to one space,
stripped. ``nfkc_casefold_t2s_v1`` adds OpenCC traditional→simplified (Chinese), so 倫敦 and 伦敦
normalize alike. Labels and segment text go through the same function.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from tracer.errors import DependencyMissing

_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def nfkc_casefold_v1(text: str) -> str:
    folded = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    if not folded.isprintable():  # rare: controls left between words
        folded = " ".join(_CONTROLS.sub(" ", folded).split())
    return folded


@lru_cache(maxsize=1)
def _t2s() -> Callable[[str], str]:
    try:
        import opencc
    except ImportError as err:  # pragma: no cover - opencc is a core dependency
        raise DependencyMissing("Chinese normalization needs the 'opencc' package: pip install opencc") from err
    return opencc.OpenCC("t2s").convert


def to_simplified(text: str) -> str:
    """OpenCC traditional→simplified Chinese, nothing else."""
    return _t2s()(text)


def nfkc_casefold_t2s_v1(text: str) -> str:
    return _t2s()(nfkc_casefold_v1(text))


NORMALIZERS: dict[str, Callable[[str], str]] = {
    "nfkc_casefold_v1": nfkc_casefold_v1,
    "nfkc_casefold_t2s_v1": nfkc_casefold_t2s_v1,
}

# Languages whose labels and text are converted traditional→simplified (wiki codes as ``wiki_language`` gives
# them: ``zh_yuewiki`` → ``zh-yue``; the underscore spellings are kept for labels given by hand).
CHINESE = frozenset(
    {"zh", "zh-cn", "zh-tw", "zh-hans", "zh-hant", "zh-classical", "zh-yue", "zh_classical", "zh_yue", "yue"}
)


def normalizer_name(lang: str) -> str:
    return "nfkc_casefold_t2s_v1" if lang in CHINESE else "nfkc_casefold_v1"


def normalizer(name: str) -> Callable[[str], str]:
    try:
        return NORMALIZERS[name]
    except KeyError:
        raise ValueError(f"unknown normalizer {name!r}; known: {', '.join(NORMALIZERS)}") from None
