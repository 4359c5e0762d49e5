"""The uploaded file as an archive, checked before openpyxl opens it.

`check_upload_container` refuses, in this order: a file too big or not named .xlsx, a file that
is not a zip (with a word on what it is instead), an archive that is not a workbook, parts with
duplicate or unsafe names, declared sizes past the limits (`limits`: the whole archive, each
part, the packing ratio), then reads the package's declarations (`package`) and refuses macros,
ActiveX controls, embedded objects, links outside, and finally reads every part as a stream
(`parts`): its encoding, DTDs, size, markup and depth. Nothing of a refused file reaches openpyxl.
"""

from __future__ import annotations

import zipfile
import zlib
from collections import Counter
from typing import IO

from django.utils.translation import gettext as _

from .limits import (
    LARGEST,
    MAX_MARKUP,
    MAX_RATIO,
    MAX_UNPACKED_BYTES,
    MAX_UPLOAD_BYTES,
    MAX_ZIP_MEMBERS,
    MB,
    OTHER,
    RATIO_FLOOR,
    UploadRejected,
)
from .package import CONTENT_TYPES, RELS, Package, check_declarations, read_content_types, read_relationships
from .parts import part_name, read_part, too_big
from .template import MAX_ROWS

# A zip that cannot be unpacked as it claims: damaged, encrypted, or an unknown compression.
UNPACKING_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError)


def _sniff_not_a_workbook(head: bytes) -> UploadRejected:
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return UploadRejected(
            _(
                "This is an old Excel 97–2003 file (.xls) or a password-protected workbook. Open it "
                "in Excel or LibreOffice, remove any password and save it as “Excel Workbook (.xlsx)”."
            ),
            "old_or_encrypted",
        )
    text = None
    for encoding in ("utf-8-sig", "utf-16"):
        try:
            text = head.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is not None and text.strip() and any(sep in text for sep in (",", ";", "\t", "\n")):
        return UploadRejected(
            _(
                "This file is plain text (CSV), not an Excel workbook, even though its name ends in "
                ".xlsx. Open it in Excel or LibreOffice and save it as “Excel Workbook (.xlsx)”, or "
                "download the template again and copy your lines into it."
            ),
            "csv_not_xlsx",
        )
    return UploadRejected(
        _("This file is not an Excel workbook (.xlsx). Download the template and fill it in."),
        "not_xlsx",
    )


def check_upload_container(fileobj: IO[bytes], name: str, size: int) -> None:
    """Refuse, before openpyxl opens anything, what is not a plain XLSX a budget fits in. Raises
    `UploadRejected` with a message in plain words and a code."""
    _check_name_and_size(name, size)
    fileobj.seek(0)
    head = fileobj.read(4096)
    fileobj.seek(0)
    if not head.startswith(b"PK"):
        raise _sniff_not_a_workbook(head)
    try:
        archive = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _damaged() from exc
    with archive:
        members = archive.infolist()
        _check_is_a_workbook(members)
        _check_names([m.filename for m in members])
        _check_declared_sizes(members)
        try:
            _check_parts(archive, members)
        except UNPACKING_ERRORS as exc:
            raise _damaged() from exc
    fileobj.seek(0)


def _damaged() -> UploadRejected:
    return UploadRejected(_("The file is damaged or is not an Excel workbook (.xlsx)."), "damaged")


def _check_name_and_size(name: str, size: int) -> None:
    lower = (name or "").lower()
    if size > MAX_UPLOAD_BYTES:
        raise UploadRejected(
            _("The file is %(size)s MB; the limit is 5 MB. A budget of %(rows)s lines is far smaller.")
            % {"size": f"{size / 1024 / 1024:.1f}", "rows": f"{MAX_ROWS:,}"},
            "too_big",
        )
    if lower.endswith((".xlsm", ".xltm", ".xlam", ".xlsb")):
        raise UploadRejected(
            _(
                "Workbooks with macros (.xlsm) are not accepted. Save the file as “Excel Workbook "
                "(.xlsx)” and upload that."
            ),
            "macros",
        )
    if not lower.endswith(".xlsx"):
        raise UploadRejected(
            _("Upload an Excel workbook whose name ends in .xlsx (the template's format)."), "not_xlsx"
        )


def _check_is_a_workbook(members: list[zipfile.ZipInfo]) -> None:
    names = {m.filename for m in members}
    if len(members) > MAX_ZIP_MEMBERS:
        raise _zip_bomb()
    if "mimetype" in names and "xl/workbook.xml" not in names:
        raise UploadRejected(
            _(
                "This is an OpenDocument spreadsheet (.ods), not an Excel workbook. Save it as "
                "“Excel Workbook (.xlsx)” and upload that."
            ),
            "ods",
        )
    if "xl/workbook.xml" not in names or CONTENT_TYPES not in names:
        raise UploadRejected(
            _("This file is not an Excel workbook (.xlsx). Download the template and fill it in."),
            "not_xlsx",
        )


def _zip_bomb() -> UploadRejected:
    return UploadRejected(
        _(
            "The file unpacks to far more data than any budget (more than %(size)s MB, or more "
            "than %(n)s parts): it was not opened. Copy your lines into a new template."
        )
        % {"size": MAX_UNPACKED_BYTES // MB, "n": MAX_ZIP_MEMBERS},
        "zip_bomb",
    )


def _check_names(names: list[str]) -> None:
    """Part names are compared without case (as Office does): two parts of one name would let a
    check read one and openpyxl the other."""
    counts = Counter(n.lower() for n in names)
    for name in names:
        if counts[name.lower()] > 1:
            raise UploadRejected(
                _(
                    "The file holds two parts named “%(part)s”: it is damaged or was made to "
                    "mislead. Save it again as “Excel Workbook (.xlsx)” and upload that."
                )
                % {"part": part_name(name)},
                "duplicate_parts",
            )
        segments = name.split("/")
        if name.startswith("/") or "\\" in name or ":" in name or ".." in segments or not name.isprintable():
            raise UploadRejected(
                _(
                    "The file holds a part named “%(part)s”, a name no workbook uses: it was not "
                    "opened. Save it again as “Excel Workbook (.xlsx)” and upload that."
                )
                % {"part": part_name(name)},
                "unsafe_names",
            )


def _check_declared_sizes(members: list[zipfile.ZipInfo]) -> None:
    """What the archive says each part unpacks to, before unpacking anything (zipfile never
    returns more than that: it stops there and checks the part's CRC)."""
    if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
        raise _zip_bomb()
    for member in members:
        if member.file_size > LARGEST:
            raise too_big(member.filename, LARGEST)
        if member.file_size > RATIO_FLOOR and member.file_size > MAX_RATIO * max(member.compress_size, 1):
            raise _zip_bomb()


def _check_parts(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo]) -> None:
    """The package's declarations first (content types, then relationships: small parts, read
    and checked like any other), then every other part within the limit its role allows."""
    structure = sorted(
        (m for m in members if m.filename == CONTENT_TYPES or RELS.search(m.filename)),
        key=lambda m: m.filename != CONTENT_TYPES,
    )
    for member in structure:
        if member.file_size > OTHER.bytes:
            raise too_big(member.filename, OTHER.bytes)
    package = Package()
    markup_left = MAX_MARKUP
    for member in structure:
        reading = read_part(archive, member, OTHER, markup_left=markup_left, keep_text=True)
        markup_left -= reading.markup
        if member.filename == CONTENT_TYPES:
            read_content_types(package, reading.text)
        else:
            read_relationships(package, member.filename, reading.text)
    check_declarations(package, [m.filename for m in members])
    others = [m for m in members if m not in structure]
    for member in others:
        limit = package.limit_for(member.filename)
        if member.file_size > limit.bytes:
            raise too_big(member.filename, limit.bytes)
    for member in others:
        reading = read_part(archive, member, package.limit_for(member.filename), markup_left=markup_left)
        markup_left -= reading.markup
