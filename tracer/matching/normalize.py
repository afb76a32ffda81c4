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

import numpy as np

from tracer.errors import DependencyMissing

_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@lru_cache(maxsize=1)
def _unstable() -> np.ndarray:
    """For every code point, whether NFKC may change the text around it: it maps to something else, it is a
    combining mark (canonical class not 0), or it composes with the character before it (the second of a
    canonical pair, Hangul vowel and trailing jamo). Every other character is a *stable* starter: NFKC never
    changes it and never joins it to what precedes it, so a text can be normalized piece by piece, cut before
    stable starters. Built once per process from Python's Unicode tables (~0.5 s)."""
    unstable = np.zeros(0x110000, dtype=bool)
    unstable[0x1161:0x1176] = unstable[0x11A8:0x11C3] = True
    for code in range(0x110000):
        ch = chr(code)
        if unicodedata.combining(ch) or unicodedata.normalize("NFKC", ch) != ch:
            unstable[code] = True
        decomposition = unicodedata.decomposition(ch).split()
        if len(decomposition) == 2 and not decomposition[0].startswith("<"):
            unstable[int(decomposition[1], 16)] = True
    return unstable


def nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``, normalizing only the runs of unstable characters (with the stable
    starter before each): most text has few, and CPython normalizes a whole string slowly as soon as its quick
    check fails (30 MB/s on Armenian or Japanese segments, against 1 GB/s for the check)."""
    if unicodedata.is_normalized("NFKC", text):
        return text
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    flags = np.zeros(len(codes) + 2, dtype=bool)
    flags[1:-1] = _unstable()[codes]
    edges = np.flatnonzero(flags[1:] != flags[:-1]).tolist()  # where each run of unstable characters starts, ends
    pieces, done = [], 0
    for start, end in zip(edges[0::2], edges[1::2], strict=True):
        start = max(start - 1, done)  # with the stable starter before the run: it may compose with it
        pieces.append(text[done:start])
        pieces.append(unicodedata.normalize("NFKC", text[start:end]))
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


def nfkc_casefold_v1(text: str) -> str:
    folded = nfkc(text).casefold()
    if folded.isprintable() and "  " not in folded:
        return folded.strip(" ")  # every whitespace character but the space is unprintable: nothing to collapse
    folded = " ".join(folded.split())
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
