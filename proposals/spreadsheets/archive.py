"""The uploaded file as an archive, checked before openpyxl opens it: size, container, macros,
zip bomb, XML DTDs."""

from __future__ import annotations

import zipfile
from typing import IO

from django.utils.translation import gettext as _

from .template import MAX_ROWS

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_ZIP_MEMBERS = 1000


class UploadRejected(Exception):
    """The file as a whole cannot be read (size, type, macros, zip bomb...)."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message, self.code = message, code


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
    """Refuse, before openpyxl opens anything, what is not a plain XLSX: too big, not a zip,
    macros, a zip that unpacks to far more than a budget (zip bomb), XML with DTDs."""
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
    fileobj.seek(0)
    head = fileobj.read(4096)
    fileobj.seek(0)
    if not head.startswith(b"PK"):
        raise _sniff_not_a_workbook(head)
    try:
        archive = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UploadRejected(
            _("The file is damaged or is not an Excel workbook (.xlsx)."), "damaged"
        ) from exc
    with archive:
        members = archive.infolist()
        names = {m.filename for m in members}
        if len(members) > MAX_ZIP_MEMBERS or sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
            raise UploadRejected(
                _(
                    "The file unpacks to far more data than any budget (more than 50 MB, or more "
                    "than %(n)s parts): it was not opened. Copy your lines into a new template."
                )
                % {"n": MAX_ZIP_MEMBERS},
                "zip_bomb",
            )
        if "mimetype" in names and "xl/workbook.xml" not in names:
            raise UploadRejected(
                _(
                    "This is an OpenDocument spreadsheet (.ods), not an Excel workbook. Save it as "
                    "“Excel Workbook (.xlsx)” and upload that."
                ),
                "ods",
            )
        if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
            raise UploadRejected(
                _("This file is not an Excel workbook (.xlsx). Download the template and fill it in."),
                "not_xlsx",
            )
        content_types = archive.read("[Content_Types].xml")
        if any("vbaproject" in n.lower() for n in names) or b"macroEnabled" in content_types:
            raise UploadRejected(
                _(
                    "This workbook contains macros, which are not accepted. Save it as “Excel "
                    "Workbook (.xlsx)” (without macros) and upload that."
                ),
                "macros",
            )
        for member in members:
            if member.filename.lower().endswith((".xml", ".rels", ".vml")) and _declares_entities(
                archive, member
            ):
                raise UploadRejected(
                    _("The file contains XML declarations that Excel never writes; it was not opened."),
                    "xml_dtd",
                )
    fileobj.seek(0)


def _declares_entities(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bool:
    """A DOCTYPE or ENTITY declaration anywhere in the XML part, not only in its first bytes (a
    long comment can come first). Excel writes neither; text typed in a cell is escaped
    (`&lt;!DOCTYPE`), so it never matches."""
    tail = b""
    with archive.open(member) as part:
        for chunk in iter(lambda: part.read(256 * 1024), b""):
            window = tail + chunk
            if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                return True
            tail = window[-8:]
    return False
