"""Content-Encoding decoding with a hard cap on the decoded size (gzip-bomb safe).

Why not httpx's own decoding (``aiter_bytes``): it inflates each network chunk in one go,
so a single 64 KiB chunk of a gzip bomb can become 64 MiB in memory before any size check
runs. Here raw bytes are inflated with ``zlib``'s ``max_length``, so no call ever produces
more than the bytes still allowed (plus one, to detect the overflow), whatever the ratio.

Supported codings: ``identity``, ``gzip`` / ``x-gzip``, ``deflate`` (zlib-wrapped or raw,
as servers disagree), in any stacked order. We only advertise ``gzip, deflate``, so
anything else (``br``, ``zstd``, ``compress``) is refused with ``bad_encoding``.
"""

from __future__ import annotations

import zlib

__all__ = ["BodyDecoder", "DecodeError", "TooLarge"]


class DecodeError(Exception):
    """Unsupported or corrupt Content-Encoding (reason code ``bad_encoding``)."""


class TooLarge(Exception):
    """The decoded body would exceed the cap (reason code ``too_large``)."""


class _Inflater:
    """One coding step; ``deflate`` picks zlib or raw framing from the first bytes."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self._obj: zlib._Decompress | None = None
        if coding in ("gzip", "x-gzip"):
            self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, data: bytes, limit: int) -> bytes:
        if not data:
            return b""
        if self._obj is None:  # deflate: zlib header (CMF/FLG check) or raw stream
            zlib_framed = len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
            self._obj = zlib.decompressobj(zlib.MAX_WBITS if zlib_framed else -zlib.MAX_WBITS)
        try:
            out = self._obj.decompress(data, limit + 1)
        except zlib.error as exc:
            raise DecodeError(f"corrupt {self.coding} stream: {exc}") from exc
        if len(out) > limit or self._obj.unconsumed_tail:
            raise TooLarge(f"decoded body exceeds {limit} bytes")
        return out

    def finish(self, limit: int) -> bytes:
        if self._obj is None:
            return b""
        try:
            out = self._obj.flush(limit + 1)
        except zlib.error as exc:
            raise DecodeError(f"corrupt {self.coding} stream: {exc}") from exc
        if len(out) > limit:
            raise TooLarge(f"decoded body exceeds {limit} bytes")
        return out


class BodyDecoder:
    """Decode raw chunks of a response body, never holding more than ``limit`` decoded bytes."""

    def __init__(self, content_encoding: str | None, limit: int) -> None:
        codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        for coding in codings:
            if coding not in ("gzip", "x-gzip", "deflate"):
                raise DecodeError(f"unsupported Content-Encoding {coding!r}")
        # Codings are listed in the order applied, so they are undone in reverse.
        self._steps = [_Inflater(c) for c in reversed(codings)]
        self.limit = limit
        self.size = 0

    def _room(self) -> int:
        return self.limit - self.size

    def feed(self, chunk: bytes) -> bytes:
        """Decoded bytes for one raw chunk; raises TooLarge/DecodeError."""
        data = chunk
        for step in self._steps:
            data = step.feed(data, self._room())
        self.size += len(data)
        if self.size > self.limit:
            raise TooLarge(f"body exceeds {self.limit} bytes")
        return data

    def finish(self) -> bytes:
        """Whatever the inflaters still buffer at the end of the stream."""
        data = b""
        for step in self._steps:  # each step gets the previous one's tail, then flushes
            data = (step.feed(data, self._room()) if data else b"") + step.finish(self._room())
        self.size += len(data)
        if self.size > self.limit:
            raise TooLarge(f"body exceeds {self.limit} bytes")
        return data
