"""A brute-force tracer for the tests: every fact against every segment, in plain Python.

It shares only the definitions with ``tracer.matching`` (the normalizer, the character classes and
the label-flag policy), none of the machinery: no automaton, no byte codes, no numpy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from tokenizers import Tokenizer

from tracer.matching.labels import label_flag
from tracer.matching.normalize import nfkc_casefold_v1
from tracer.matching.scripts import SPACED_WORD, char_class, joins_word


class TokenReference:
    """Is a label's token sequence in a segment's ids, ending at a word end?"""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer
        self.pieces = [tokenizer.id_to_token(i) or "" for i in range(tokenizer.get_vocab_size(with_added_tokens=True))]
        self.wordpiece = '"type":"WordPiece"' in tokenizer.to_str().replace(" ", "")
        self.bare = None if self.wordpiece else tokenizer.token_to_id("▁")
        self.special = {t.content for t in tokenizer.get_added_tokens_decoder().values() if t.special}

    def key(self, label: str) -> tuple[int, ...]:
        ids = self.tokenizer.encode(label, add_special_tokens=False).ids
        if self.bare is not None and ids and ids[0] == self.bare:
            ids = ids[1:]
        return tuple(ids)

    def ends_word(self, ids: list[int], stop: int) -> bool:
        if stop == len(ids):
            return True
        following, last = self.pieces[ids[stop]], self.pieces[ids[stop - 1]]
        if self.wordpiece:
            return not following.startswith("##")
        if following in self.special or last in self.special or not following or not last:
            return True
        return (
            following.startswith("▁") or char_class(following[0]) != SPACED_WORD or char_class(last[-1]) != SPACED_WORD
        )

    @staticmethod
    def index(ids: list[int]) -> dict[int, list[int]]:
        """Positions of every id in a segment (shortcuts: a key's ids must all be there, and it can only
        start where its first id is)."""
        positions: dict[int, list[int]] = {}
        for i, token in enumerate(ids):
            positions.setdefault(token, []).append(i)
        return positions

    @staticmethod
    def needs(key: tuple[int, ...]) -> set[int]:
        return set(key)

    @staticmethod
    def has_all(needs: set[int], positions: dict[int, list[int]]) -> bool:
        return needs <= positions.keys()

    def occurs(self, key: tuple[int, ...], ids: list[int], positions: dict[int, list[int]]) -> bool:
        n = len(key)
        return any(tuple(ids[i : i + n]) == key and self.ends_word(ids, i + n) for i in positions.get(key[0], ()))


class SubstringReference:
    """The authors' rule: is a label's space-joined token line a substring of the segment's token line?"""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer
        self.pieces = [tokenizer.id_to_token(i) or "" for i in range(tokenizer.get_vocab_size(with_added_tokens=True))]

    def key(self, label: str) -> str:
        return " ".join(self.tokenizer.encode(label, add_special_tokens=False).tokens)

    def line(self, ids: list[int]) -> str:
        return " ".join(self.pieces[i] for i in ids)

    @staticmethod
    def index(line: str) -> set[str]:
        return set(line)

    @staticmethod
    def needs(key: str) -> set[str]:
        return set(key)

    @staticmethod
    def has_all(needs: set[str], chars: set[str]) -> bool:
        return needs <= chars

    @staticmethod
    def occurs(key: str, line: str, _chars: set[str]) -> bool:
        return key in line


class TextReference:
    """Is a normalized label in a segment's normalized text, not inside a word of a spaced script?"""

    def __init__(self, normalize: Callable[[str], str]) -> None:
        self.normalize = normalize

    def key(self, label: str) -> str:
        return self.normalize(label)

    @staticmethod
    def index(text: str) -> set[str]:
        """Every character and character pair of a text (a shortcut: a key's own must all be among them)."""
        return set(text) | {text[i : i + 2] for i in range(len(text) - 1)}

    @staticmethod
    def needs(key: str) -> set[str]:
        return TextReference.index(key)

    @staticmethod
    def has_all(needs: set[str], pairs: set[str]) -> bool:
        return needs <= pairs

    def occurs(self, key: str, text: str, _pairs: set[str]) -> bool:
        start = text.find(key)
        while start >= 0:
            end = start + len(key)
            inside = (start > 0 and joins_word(text[start - 1], key[0])) or (
                end < len(text) and joins_word(key[-1], text[end])
            )
            if not inside:
                return True
            start = text.find(key, start + 1)
        return False


def flags_of(fact: dict, keys: dict[str, object], normalized_keys: bool = True) -> list[str]:
    flags = []
    for role, field in (("subject", "subject_label"), ("object", "object_label")):
        label = fact[field]
        normalized = keys[label] if normalized_keys and isinstance(keys[label], str) else nfkc_casefold_v1(label)
        flag = label_flag(normalized, not keys[label])
        if flag:
            flags.append(f"{role}:{flag}")
    return flags


Reference = TokenReference | SubstringReference | TextReference


def reference_presence(
    facts: list[dict], segments: Iterable[dict], matcher: Reference, column: str, k: int = 5
) -> dict[str, dict]:
    """uuid -> expected ``fact_presence`` fields, every fact checked against every segment."""
    segments = sorted(segments, key=lambda s: (s["page_id"], s["seg_no"]))
    labels = {f[name] for f in facts for name in ("subject_label", "object_label")}
    keys = {label: matcher.key(label) for label in labels}
    if isinstance(matcher, TextReference):
        haystacks = [matcher.normalize(s["text"]) for s in segments]
    elif isinstance(matcher, SubstringReference):
        haystacks = [matcher.line(s["token_ids"]) for s in segments]
    else:
        haystacks = [s["token_ids"] for s in segments]
    quick = [matcher.index(h) for h in haystacks]  # type: ignore[arg-type]
    where: dict[object, list[int]] = {}
    for key in set(keys.values()):
        needs = matcher.needs(key)  # type: ignore[arg-type]
        where[key] = [
            n
            for n in range(len(segments))
            if key and matcher.has_all(needs, quick[n]) and matcher.occurs(key, haystacks[n], quick[n])  # type: ignore[arg-type]
        ]

    out = {}
    for fact in facts:
        subject = where[keys[fact["subject_label"]]]
        obj = set(where[keys[fact["object_label"]]])
        both = [n for n in subject if n in obj]
        flags = flags_of(fact, keys, isinstance(matcher, TextReference))
        undecided = flags and not isinstance(matcher, SubstringReference)  # the authors' rule only records flags
        out[fact["uuid"]] = {
            "subject_segments": len(subject),
            "object_segments": len(obj),
            "cooccurrence_segments": len(both),
            "present": None if undecided else bool(both),
            "evidence": [{"page_id": segments[n]["page_id"], "seg_no": segments[n]["seg_no"]} for n in both[:k]],
            "flags": flags,
        }
    return out
