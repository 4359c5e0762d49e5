"""How much of an uploaded workbook the portal will unpack and look at, and the refusal raised
when a file goes past it.

The figures come from the largest real budget the import takes: 2,000 lines (its maximum), each
with a 250-character Khmer description, a 40-character Khmer unit and one of 20 activities with
250-character Khmer titles (`bench/import_hostile.py` builds it and prints these). As the portal's
template writes it (text in the sheet) its Budget sheet unpacks to 3.5 MB with 72,000 elements
and attributes ("markup"); as Excel saves it (text in a shared-strings part) the sheet is 0.5 MB
with 62,000 and the shared strings 1.7 MB with 12,000. Every other part stays under 16 KB and 500.
Each limit leaves four times that room or more, and keeps what openpyxl may still spend on a file
that passes bounded: built just inside the limits in the shapes that cost it most, the slowest
took 0.75 s of CPU on the development machine (a styles part costs openpyxl up to 16 µs per
element, a shared string about 10 µs).
"""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024

MAX_UPLOAD_BYTES = 5 * MB
MAX_ZIP_MEMBERS = 1000


@dataclass(frozen=True)
class PartLimit:
    """What one part may unpack to: bytes, and markup (elements plus attributes)."""

    bytes: int
    markup: int


# The parts the package declares as worksheets (targets of a worksheet relationship) or as the
# shared strings, and nothing else, may be large; every other part is small.
SHEET = PartLimit(bytes=16 * MB, markup=300_000)
SHARED_STRINGS = PartLimit(bytes=8 * MB, markup=100_000)
MEDIA = PartLimit(bytes=MAX_UPLOAD_BYTES, markup=10_000)  # pictures: bytes, not markup
OTHER = PartLimit(bytes=1 * MB, markup=50_000)
LARGEST = max(SHEET.bytes, SHARED_STRINGS.bytes, MEDIA.bytes, OTHER.bytes)

# The whole archive.
MAX_UNPACKED_BYTES = 24 * MB
MAX_MARKUP = 400_000
# Nesting: a worksheet is 6 deep, a chart about 20.
MAX_DEPTH = 100
# A part that unpacks to more than this many times its packed size, once past 1 MB.
MAX_RATIO = 100
RATIO_FLOOR = 1 * MB


class UploadRejected(Exception):
    """The file as a whole cannot be read (size, type, macros, zip bomb...)."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message, self.code = message, code
