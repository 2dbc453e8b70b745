"""Export files as streams, plain, gzipped or the one file in a zip; XML read a line at a time."""
from __future__ import annotations

import gzip
import io
import json
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree
from xml.parsers import expat

from .records import ImportFailed, Record

CHUNK = 1 << 16
_GZIP = b"\x1f\x8b"
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")

XmlEvents = Iterator[tuple[str, ElementTree.Element, int]]
Parser = Callable[[XmlEvents], Iterator[Record]]


class Progress:
    """How far reading has got: `done` of `total` units; `hook`, when set, hears every step."""

    def __init__(self, total: int = 0) -> None:
        self.total = total
        self.done = 0
        self.hook: Callable[[int], None] | None = None

    def advance(self, n: int = 1) -> None:
        """Count `n` more units read."""
        self.done += n
        if self.hook is not None:
            self.hook(self.done)


class Input(Progress):
    """An export file's bytes however they are packed; progress counts them over `passes` reads."""

    def __init__(self, path: str | Path, passes: int = 1) -> None:
        super().__init__()
        self.path = Path(path)
        self.member: str | None = None
        try:
            with open(self.path, "rb") as f:
                magic = f.read(4)
            size = self.path.stat().st_size
            if magic.startswith(_ZIP):
                size = self._zip_member()
        except OSError as e:
            raise ImportFailed(f"cannot read the file: {e.strerror or e}") from None
        self.packed = magic.startswith(_GZIP) or self.member is not None
        self.total = size * passes

    def _zip_member(self) -> int:
        """The one file inside a zip archive (its size), refusing archives of none or several."""
        try:
            with zipfile.ZipFile(self.path) as archive:
                members = [m for m in archive.infolist() if not m.is_dir()]
        except zipfile.BadZipFile as e:
            raise ImportFailed(f"the zip archive is damaged: {e}") from None
        if len(members) != 1:
            names = ", ".join(m.filename for m in members) or "no files"
            raise ImportFailed("the zip archive must hold exactly one export file; "
                               f"it holds {names}")
        self.member = members[0].filename
        return members[0].file_size

    @contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        """The file's (unpacked) bytes; damage found while reading raises ImportFailed."""
        with open(self.path, "rb") as raw:
            if self.member is not None:
                with zipfile.ZipFile(raw) as archive, archive.open(self.member) as inner:
                    with _damage_is_fatal("zip archive"):
                        yield io.BufferedReader(_Counting(inner, self.advance), CHUNK)
            elif self.packed:
                with gzip.GzipFile(fileobj=_Counting(raw, self.advance)) as inner:
                    with _damage_is_fatal("gzip file"):
                        yield inner  # type: ignore[misc]
            else:
                yield io.BufferedReader(_Counting(raw, self.advance), CHUNK)

    def verify(self) -> None:
        """Read a packed file through once: a damaged archive fails before anything is written."""
        if self.packed:
            with self.open() as stream:
                while stream.read(CHUNK):
                    pass


@contextmanager
def _damage_is_fatal(what: str) -> Iterator[None]:
    try:
        yield
    except (EOFError, OSError, zlib.error, zipfile.BadZipFile) as e:
        raise ImportFailed(f"the {what} is damaged or cut short: {e}") from None


class _Counting(io.RawIOBase):
    """A read-only stream that reports every byte read through it."""

    def __init__(self, inner: IO[bytes], count: Callable[[int], None]) -> None:
        super().__init__()
        self.inner = inner
        self.count = count

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.inner.read(len(buffer))
        buffer[: len(data)] = data
        self.count(len(data))
        return len(data)


def lines(stream: IO[bytes], limit: int) -> Iterator[bytes | None]:
    """Each line of `stream`, or None for one over `limit` bytes: read past, never held whole."""
    while line := stream.readline(limit + 1):
        if len(line) > limit and not line.endswith(b"\n"):
            while (rest := stream.readline(CHUNK)) and not rest.endswith(b"\n"):
                pass
            yield None
        else:
            yield line


def load_json(source: Input) -> Any:
    """The whole file as JSON (JSON does not stream); ImportFailed when it is not JSON."""
    with source.open() as stream:
        try:
            return json.load(stream)
        except (ValueError, UnicodeDecodeError) as e:
            raise ImportFailed(f"not valid JSON: {e}") from None


def local(tag: str) -> str:
    """An element or attribute name without its namespace."""
    return tag.rpartition("}")[2]


def check_xml(source: Input, roots: tuple[str, ...], what: str) -> str:
    """Parse the whole file once, cheaply: its root's name, or ImportFailed naming the line."""
    parser = expat.ParserCreate(namespace_separator="}")
    found: list[str] = []

    def first(name: str, _attrs: object) -> None:
        found.append(local(name))
        parser.StartElementHandler = None
        if found[0] not in roots:
            expected = " or ".join(f"<{r}>" for r in roots)
            raise ImportFailed(f"the file starts with <{found[0]}>, not {expected}: "
                               f"it is not {what}", parser.CurrentLineNumber)

    def skipped(name: str, _is_parameter: bool) -> None:
        # ElementTree refuses an entity it cannot expand, so the check must refuse it too.
        raise ImportFailed(f"the file is not well-formed XML: undefined entity &{name};",
                           parser.CurrentLineNumber)

    parser.StartElementHandler = first
    parser.SkippedEntityHandler = skipped
    try:
        with source.open() as stream:
            while chunk := stream.read(CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except expat.ExpatError as e:
        raise ImportFailed(f"the file is not well-formed XML: {expat.ErrorString(e.code)} "
                           f"(column {e.offset + 1})", e.lineno) from None
    return found[0]


def xml_events(stream: IO[bytes]) -> XmlEvents:
    """(event, element, line) for each start and end tag, fed a line at a time to know the line."""
    parser = ElementTree.XMLPullParser(events=("start", "end"))
    line = 1
    try:
        while piece := stream.readline(CHUNK):
            parser.feed(piece)
            for event, element in parser.read_events():
                yield event, element, line
            line += piece.endswith(b"\n")
        parser.close()
    except ElementTree.ParseError as e:
        raise ImportFailed(f"the file is not well-formed XML: {e}", e.position[0]) from None
    for event, element in parser.read_events():
        yield event, element, line


class XmlSource:
    """An XML export: checked whole first, then read record by record by its root's parser."""

    def __init__(self, path: str | Path, parsers: dict[str, Parser], what: str) -> None:
        self.input = Input(path, passes=2)
        self.progress: Progress = self.input
        self.parsers = parsers
        self.what = what
        self.root: str | None = None

    def check(self) -> None:
        """Fail before anything is written when the file is not this format or not well-formed."""
        if self.root is None:
            self.root = check_xml(self.input, tuple(self.parsers), self.what)

    def __iter__(self) -> Iterator[Record]:
        self.check()
        with self.input.open() as stream:
            yield from self.parsers[self.root or ""](xml_events(stream))
