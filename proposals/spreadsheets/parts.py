"""One part of an uploaded workbook, read as a stream before openpyxl sees it.

Whatever its name, each part is unpacked in chunks up to its limit (never past it), its text
encoding found as an XML parser would find it (byte order mark, the first bytes, the XML
declaration), decoded, and searched for DTD declarations (DOCTYPE, ENTITY), which Excel never
writes. The decoded text also goes through expat, which counts elements and attributes and the
nesting depth as it goes, so a part with a million tiny elements is refused after reading the
first few hundred thousand. A part written in an encoding the portal cannot decode is refused,
and so is a part that is itself an archive or an OLE compound file (embedded objects, macros).
"""

from __future__ import annotations

import codecs
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from xml.parsers import expat

from django.utils.translation import gettext as _

from .limits import MAX_DEPTH, MB, PartLimit, UploadRejected

CHUNK = 64 * 1024
# The encoding is decided on the first chunk read, at least this long: an XML declaration that
# does not end within it is not one any spreadsheet program writes (Excel's is 55 bytes).
HEAD = 1024

BOMS = [  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
]
# "<" or "<?" in each encoding, without a byte order mark (XML 1.0, appendix F).
FIRST_BYTES = [
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
]
# Encodings an XML parser may recognise from the first bytes that the portal does not decode:
# UCS-4 in unusual byte orders, EBCDIC.
UNCHECKABLE_FIRST_BYTES = [b"\x00\x00\xfe\xff", b"\xfe\xff\x00\x00", b"\x00\x00<\x00", b"Lo\xa7\x94"]
# What a declaration may name, for the encoding found from the first bytes.
DECLARABLE = {
    "utf-8": {"utf-8", "ascii", "iso8859-1"},
    "utf-16-le": {"utf-16", "utf-16-le"},
    "utf-16-be": {"utf-16", "utf-16-be"},
    "utf-32-le": {"utf-32", "utf-32-le"},
    "utf-32-be": {"utf-32", "utf-32-be"},
}
DECLARATION = re.compile(
    r"<\?xml\s+version\s*=\s*(['\"])[^'\"]*\1"
    r"(?:\s+encoding\s*=\s*(['\"])(?P<encoding>[^'\"]*)\2)?"
    r"(?:\s+standalone\s*=\s*(['\"])[^'\"]*\4)?\s*\?>"
)
DTD = re.compile(r"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
DTD_OVERLAP = len("<!DOCTYPE") - 1

ARCHIVES = [
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"PK\x07\x08", "zip"),
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!", "rar"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "OLE"),
]


@dataclass
class PartReading:
    """What reading one part found: its unpacked size and markup, and its text when kept."""

    bytes: int = 0
    markup: int = 0
    text: str | None = None


def part_name(name: str) -> str:
    """A part's name as shown in a message: printable, short."""
    shown = "".join(c if c.isprintable() else "?" for c in name)
    return shown if len(shown) <= 80 else shown[:77] + "..."


def too_big(name: str, limit: int) -> UploadRejected:
    return UploadRejected(
        _(
            "The part “%(part)s” of the file unpacks to more than %(limit)s MB, far more than any "
            "budget needs: the file was not opened. Copy your lines into a new template and "
            "upload that."
        )
        % {"part": part_name(name), "limit": f"{limit / MB:g}"},
        "part_too_big",
    )


def read_part(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    limit: PartLimit,
    *,
    markup_left: int,
    keep_text: bool = False,
) -> PartReading:
    """Unpack and check one part; raise `UploadRejected` at the first problem. `markup_left` is
    what the whole archive may still hold; `keep_text` returns the decoded text (for the small
    parts the package's structure is read from)."""
    reading = PartReading()
    markup_limit = min(limit.markup, markup_left)
    scanner: _TextScanner | None = None
    kept: list[str] = []
    with archive.open(info) as part:
        head = b""
        while True:
            chunk = part.read(min(CHUNK, limit.bytes + 1 - reading.bytes))
            reading.bytes += len(chunk)
            if reading.bytes > limit.bytes:
                raise too_big(info.filename, limit.bytes)
            if scanner is None:
                head += chunk
                if len(head) < HEAD and chunk:
                    continue
                _refuse_archives(info.filename, head)
                scanner = _TextScanner(info.filename, head, markup_limit, kept.append if keep_text else None)
                chunk = head
            scanner.feed(chunk)
            if not chunk:
                break
    reading.markup = scanner.markup
    if keep_text:
        reading.text = "".join(kept)
    return reading


def _refuse_archives(name: str, head: bytes) -> None:
    for magic, kind in ARCHIVES:
        if head.startswith(magic):
            raise UploadRejected(
                _(
                    "The part “%(part)s” of the file is itself a packed file (%(kind)s): workbooks "
                    "with embedded files, objects or macros are not accepted. Copy your lines "
                    "(values only) into a new template and upload that."
                )
                % {"part": part_name(name), "kind": kind},
                "embedded_file",
            )


def detect_encoding(name: str, head: bytes) -> tuple[str, int]:
    """The codec a parser would read the part with, and the length of its byte order mark.
    Raises `UploadRejected` for an encoding the portal cannot decode and check."""
    for bom, encoding in BOMS:
        if head.startswith(bom):
            found, skip = encoding, len(bom)
            break
    else:
        if any(head.startswith(b) for b in UNCHECKABLE_FIRST_BYTES):
            raise _uncheckable(name, "UCS-4/EBCDIC")
        found = next((e for first, e in FIRST_BYTES if head.startswith(first)), "utf-8")
        skip = 0
    text = head[skip:].decode(found, errors="replace")
    if not re.match(r"<\?xml\s", text):
        return found, skip
    declaration = DECLARATION.match(text)
    if declaration is None:
        raise _uncheckable(name, text[:20])
    declared = declaration.group("encoding")
    if declared is None:
        return found, skip
    try:
        codec = codecs.lookup(declared).name
    except LookupError:
        raise _uncheckable(name, declared) from None
    if codec not in DECLARABLE[found]:
        raise _uncheckable(name, declared)
    return ("iso8859-1" if codec == "iso8859-1" else found), skip


def _uncheckable(name: str, encoding: str) -> UploadRejected:
    return UploadRejected(
        _(
            "The part “%(part)s” of the file is written in a text encoding the portal cannot check "
            "(%(encoding)s): the file was not opened. Save it again as “Excel Workbook (.xlsx)” "
            "and upload that."
        )
        % {"part": part_name(name), "encoding": part_name(encoding)[:30]},
        "xml_encoding",
    )


class _TextScanner:
    """Decodes a part chunk by chunk, refuses DTD declarations, and feeds expat to count markup
    and depth. A part expat cannot parse (a picture, damaged XML) is still decoded and searched
    to its end; openpyxl's parser would stop where expat stopped."""

    def __init__(self, name: str, head: bytes, markup_limit: int, keep: Callable[[str], None] | None):
        self.name = name
        encoding, self.skip = detect_encoding(name, head)
        self.decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self.tail = ""
        self.keep = keep
        self.markup = 0
        self.depth = 0
        self.markup_limit = markup_limit
        self.parser: expat.XMLParserType | None = expat.ParserCreate()
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end

    def feed(self, chunk: bytes) -> None:
        if self.skip:
            chunk, self.skip = chunk[self.skip :], 0
        text = self.decoder.decode(chunk, final=not chunk)
        window = self.tail + text
        if DTD.search(window):
            raise UploadRejected(
                _("The file contains XML declarations that Excel never writes; it was not opened."),
                "xml_dtd",
            )
        self.tail = window[-DTD_OVERLAP:]
        if self.keep is not None:
            self.keep(text)
        self._parse(text, final=not chunk)

    def _parse(self, text: str, final: bool) -> None:
        if self.parser is None:
            return
        try:
            self.parser.Parse(text, final)
        except expat.ExpatError:
            self.parser = None

    def _start(self, _name, attributes) -> None:
        self.markup += 1 + len(attributes)
        self.depth += 1
        if self.markup > self.markup_limit:
            raise UploadRejected(
                _(
                    "The part “%(part)s” of the file holds more than %(limit)s XML elements and "
                    "attributes, far more than any budget needs: the file was not opened. Copy "
                    "your lines into a new template and upload that."
                )
                % {"part": part_name(self.name), "limit": f"{self.markup_limit:,}"},
                "too_much_markup",
            )
        if self.depth > MAX_DEPTH:
            raise UploadRejected(
                _(
                    "The part “%(part)s” of the file nests its XML more than %(depth)s levels "
                    "deep, which Excel never does: the file was not opened. Save it again as "
                    "“Excel Workbook (.xlsx)” and upload that."
                )
                % {"part": part_name(self.name), "depth": MAX_DEPTH},
                "xml_too_deep",
            )

    def _end(self, _name) -> None:
        self.depth -= 1
