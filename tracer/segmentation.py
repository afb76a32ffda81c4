"""Pages → segments of at most ``max_tokens`` token ids (the paper's 512-token chunks)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from tokenizers import Tokenizer

from tracer.records import Page, Quarantined, Segment
from tracer.tokenization.fast_encoder import FastEncoder


class Segmenter:
    """Tokenize each page once, without special tokens, and cut the ids into consecutive chunks.

    The ids of a page's segments, concatenated, are exactly what the tokenizer
    yields for the whole page; a segment's char span runs from its first token's
    start to its last token's end.
    """

    def __init__(self, tokenizer: Tokenizer, max_tokens: int = 512, source: str = "pages") -> None:
        if max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
        self.encoder = FastEncoder(tokenizer)
        self.max_tokens = max_tokens
        self.source = source

    def segments(self, page: Page) -> list[Segment]:
        enc = self.encoder.encode(page.text)
        out = []
        for seg_no, first in enumerate(range(0, len(enc.ids), self.max_tokens)):
            last = min(first + self.max_tokens, len(enc.ids)) - 1
            start, end = enc.offset(first)[0], enc.offset(last)[1]
            out.append(
                Segment(
                    page_id=page.page_id,
                    seg_no=seg_no,
                    char_start=start,
                    char_end=end,
                    text=page.text[start:end],
                    token_ids=enc.ids[first : last + 1],
                    content_sha1=page.content_sha1,
                )
            )
        return out

    def run(self, pages: Iterable[Page]) -> Iterator[Segment | Quarantined]:
        for position, page in enumerate(pages):
            yield from self.page_records(page, position)

    def page_records(self, page: Page, position: int) -> list[Segment | Quarantined]:
        """The segments of the page at ``position`` of its file, or the one record that quarantines it."""
        try:
            segments = self.segments(page)
        except Exception as err:  # noqa: BLE001 - any tokenizer failure quarantines this page only
            detail = f"{type(err).__name__}: {err}"
            return [Quarantined(self.source, position, "tokenizer_error", detail, str(page.page_id))]
        if not segments:
            return [Quarantined(self.source, position, "no_tokens", "page text yields no tokens", str(page.page_id))]
        return list(segments)
