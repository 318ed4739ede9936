"""Streaming input files into a batch's COPY: JSON Lines as-is, CSV rows as JSON objects.

Lines keep their numbers and raw text so a quarantined record can be traced back to its file.
"""

from __future__ import annotations

import csv
import gzip
import json
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import orjson
from psycopg import Copy

CHUNK = 4 << 20
BAD_ENCODING = "not valid UTF-8 (raw text kept with \\x escapes)"
# Postgres text cannot hold NUL: the byte is kept as the four characters \x00.
HAS_NUL = "contains a NUL byte (raw text kept with \\x00 for it)"
BOM = b"\xef\xbb\xbf"
FORMATS = ("jsonl", "csv")


class InputError(Exception):
    """The input cannot be read as a whole (a damaged compressed file): nothing of it lands."""


Progress = Callable[[int], None]


@dataclass(frozen=True)
class InputFile:
    """A file (or `-` for standard input) to ingest as one batch."""

    path: str
    format: str  # "jsonl" or "csv"

    @classmethod
    def from_arg(cls, path: str, fmt: str | None = None) -> InputFile:
        if fmt:
            if fmt not in FORMATS:
                raise ValueError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
            return cls(path, fmt)
        name = path.lower().removesuffix(".gz")
        if path == "-" or name.endswith((".jsonl", ".ndjson", ".json")):
            return cls(path, "jsonl")
        if name.endswith(".csv"):
            return cls(path, "csv")
        raise ValueError(f"{path}: cannot tell the format from the extension (.jsonl or .csv)")

    @property
    def label(self) -> str:
        return "<stdin>" if self.path == "-" else self.path

    @property
    def size(self) -> int | None:
        return None if self.path == "-" else Path(self.path).stat().st_size

    def open(self) -> BinaryIO:
        if self.path == "-":
            return sys.stdin.buffer
        raw = open(self.path, "rb")  # noqa: SIM115 - closed by the caller through the gzip wrapper
        if raw.read(2) == b"\x1f\x8b":
            raw.seek(0)
            return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
        raw.seek(0)
        return raw

    def feed(self, copy: Copy, progress: Progress | None = None) -> list[tuple[int, str]]:
        """Write the file into `copy`; return (line_no, error) for lines that could not be read."""
        stream = self.open()
        try:
            if self.format == "csv":
                return copy_csv(copy, stream, progress)
            return copy_jsonl(copy, line_chunks(stream, progress))
        except EOFError as exc:
            # a flipped byte can also end the stream early: gzip cannot tell the two apart
            raise InputError(
                f"{self.label}: compressed file ends early, truncated or corrupt ({exc})"
            ) from exc
        except (gzip.BadGzipFile, zlib.error) as exc:
            raise InputError(f"{self.label}: corrupt compressed file ({exc})") from exc
        except InputError as exc:
            raise InputError(f"{self.label}: {exc}") from exc
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()


def _position(stream: BinaryIO) -> int:
    inner = getattr(stream, "fileobj", None) or stream
    try:
        return inner.tell()
    except (OSError, ValueError):
        return 0


def line_chunks(stream: BinaryIO, progress: Progress | None = None) -> Iterator[bytes]:
    """Chunks of whole lines, without a leading byte order mark (a file's, or a request's body)."""
    rest = stream.read(len(BOM)).removeprefix(BOM)
    while block := stream.read(CHUNK):
        if progress:
            progress(_position(stream))
        block = rest + block
        cut = block.rfind(b"\n") + 1
        if cut == 0:
            rest = block
            continue
        rest = block[cut:]
        yield block[:cut]
    if rest:
        yield rest


# Finds where each element of an array ends; the values themselves are not needed (and a huge
# integer must not cost a conversion, or refuse the array: it is one record's problem).
_ELEMENT_END = json.JSONDecoder(
    parse_int=lambda _: None, parse_float=lambda _: None, parse_constant=lambda _: None
)
_JSON_SPACE = " \t\n\r"


def json_array_lines(body: bytes) -> bytes:
    """A JSON array as JSON Lines, one element per line with its text as sent: each is then
    judged as a line of a file is. Raise InputError when the body is not one JSON array."""
    try:
        text = body.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise InputError(f"not valid UTF-8 (byte {exc.start})") from exc

    def skip(i: int) -> int:
        while i < len(text) and text[i] in _JSON_SPACE:
            i += 1
        return i

    i = skip(0)
    if not text.startswith("[", i):
        raise InputError("not a JSON array: the body must be [record, ...]")
    elements = []
    i = skip(i + 1)
    if text.startswith("]", i):
        i += 1
    else:
        while True:
            try:
                _, end = _ELEMENT_END.raw_decode(text, i)
            except json.JSONDecodeError as exc:
                raise InputError(f"not valid JSON: {exc}") from exc
            except RecursionError as exc:
                raise InputError("not valid JSON: nested too deeply") from exc
            # between tokens only: a JSON string cannot hold a raw line break
            elements.append(text[i:end].replace("\r", " ").replace("\n", " "))
            i = skip(end)
            if text.startswith(",", i):
                i = skip(i + 1)
            elif text.startswith("]", i):
                i += 1
                break
            else:
                raise InputError(f"not valid JSON: expected ',' or ']' at character {i}")
    if skip(i) != len(text):
        raise InputError(f"not valid JSON: data after the array at character {skip(i)}")
    return "".join(e + "\n" for e in elements).encode()


def _escape(chunk: bytes) -> bytes:
    """Make a chunk of lines safe for COPY's text format, one input line per row."""
    return (
        chunk.replace(b"\\", b"\\\\")
        .replace(b"\t", b"\\t")
        .replace(b"\r", b"\\r")
        .replace(b"\x00", b"\\\\x00")
    )


def copy_jsonl(copy: Copy, chunks: Iterable[bytes]) -> list[tuple[int, str]]:
    """COPY lines into `_in (raw)`; line numbers come from the table's identity, in order."""
    bad: list[tuple[int, str]] = []
    lines_before = 0
    for chunk in chunks:
        try:
            chunk.decode("utf-8")
        except UnicodeDecodeError:
            chunk, bad_at = _repair_encoding(chunk)
            bad.extend((lines_before + n, BAD_ENCODING) for n in bad_at)
        copy.write(_escape(chunk))
        lines_before += chunk.count(b"\n")
    return bad


def _repair_encoding(chunk: bytes) -> tuple[bytes, list[int]]:
    lines = chunk.split(b"\n")
    bad = []
    for i, line in enumerate(lines):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            lines[i] = line.decode("utf-8", "backslashreplace").encode()
            bad.append(i + 1)
    return b"\n".join(lines), bad


def copy_csv(copy: Copy, stream: BinaryIO, progress: Progress | None) -> list[tuple[int, str]]:
    """COPY each CSV record as (line_no, raw text, JSON object of its non-blank cells, error)."""
    consumed: list[tuple[int, str, str | None]] = []

    def lines() -> Iterator[str]:
        for n, raw in enumerate(stream, 1):
            try:
                text, error = raw.decode("utf-8"), None
            except UnicodeDecodeError:
                text, error = raw.decode("utf-8", "backslashreplace"), BAD_ENCODING
            if n == 1:
                text = text.removeprefix("\ufeff")
            if "\x00" in text:
                text, error = text.replace("\x00", "\\x00"), error or HAS_NUL
            if progress and n % 10_000 == 0:
                progress(_position(stream))
            consumed.append((n, text, error))
            yield text

    reader = csv.reader(lines())
    try:
        header = [name.strip() for name in next(reader, [])]
    except csv.Error as exc:
        raise InputError(f"unreadable CSV header: {_csv_problem(exc)}") from exc
    consumed.clear()
    while True:
        # the reader resumes at the next line after a malformed record: refuse that one alone
        try:
            row, error = next(reader), None
        except StopIteration:
            break
        except csv.Error as exc:
            row, error = None, f"malformed CSV: {_csv_problem(exc)}"
        if not consumed:  # an error at the very end of the input, after the last line
            break
        line_no = consumed[0][0]
        raw = "".join(text for _, text, _ in consumed).rstrip("\r\n")
        error = next((e for _, _, e in consumed if e), error)
        consumed.clear()
        if row is not None and not any(cell.strip() for cell in row):
            continue
        if error is None and row is not None and len(row) != len(header):
            error = f"malformed CSV: expected {len(header)} cells, got {len(row)}"
        if error is not None:
            copy.write_row((line_no, raw, None, error))
        else:
            record = {name: cell for name, cell in zip(header, row, strict=True) if cell.strip()}
            copy.write_row((line_no, raw, orjson.dumps(record).decode(), None))
    return []


def _csv_problem(exc: csv.Error) -> str:
    if "field larger than field limit" in str(exc):
        return f"a cell is longer than {csv.field_size_limit():,} characters, the limit"
    return str(exc)
