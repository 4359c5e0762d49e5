"""Photos and output files people upload: checked and stored privately.

What is checked: the size (before anything is decoded), the type from the file's first bytes
(never from its name or the browser's word), and for images that Pillow can decode them within a
pixel limit. Images are then re-encoded as JPEG, turned upright, scaled down and stripped of
their metadata (a phone's photo carries the place it was taken), with a small copy for pages.
Everything goes through Django's default storage (local disk, or S3 in production) under a
random name; nothing is served from a public media URL: the views check permission and stream.

SHARED MODULE AT MERGE: branch `money` writes the same checks for receipts as a module of the
bottom app (`ccop/files.py` or `ccop/uploads.py`). When it lands, the lead switches
`photo_store` and `document_store` onto it (same checks, one place) and deletes the helpers
here; the callers (`activities.services`) keep their signatures.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import io
import logging
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

logger = logging.getLogger(__name__)

PHOTO_MAX_BYTES = 10 * 1024 * 1024  # a phone's photo is 2-8 MB
DOCUMENT_MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000  # larger than any phone camera; refuses decompression bombs early
PHOTO_LONG_SIDE = 1600
THUMBNAIL_LONG_SIDE = 480
PHOTO_DIR = "activities/photos"
OUTPUT_DIR = "activities/outputs"

SIGNATURES = {  # first bytes -> what the file is
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"%PDF-": "application/pdf",
}
IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp"}
PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


# Names stored inside each open `discard_on_error()` block (innermost last).
_collectors: contextvars.ContextVar[tuple[list[str], ...]] = contextvars.ContextVar(
    "upload_collectors", default=()
)


@contextlib.contextmanager
def discard_on_error():
    """Storage does not roll back with the database: files stored inside this block are removed
    when the block raises (put it outside the `transaction.atomic()` it guards, so a failed
    commit counts too). Blocks nest; the outermost failure removes everything stored in it."""
    names: list[str] = []
    token = _collectors.set((*_collectors.get(), names))
    try:
        yield
    except BaseException:
        discard(*names)
        raise
    finally:
        _collectors.reset(token)


def _save(name: str, content: bytes) -> str:
    stored = default_storage.save(name, ContentFile(content))
    for names in _collectors.get():
        names.append(stored)
    return stored


@dataclass(frozen=True)
class StoredImage:
    name: str
    thumbnail_name: str
    content_type: str
    size: int
    width: int
    height: int
    sha256: str


@dataclass(frozen=True)
class StoredFile:
    name: str
    content_type: str
    size: int
    sha256: str


def sniff(head: bytes) -> str | None:
    """The content type the first bytes say, or None."""
    for signature, content_type in SIGNATURES.items():
        if head.startswith(signature):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def _read(upload, limit: int) -> bytes:
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise _too_large(limit)
    upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise _too_large(limit)
    if not data:
        raise ValidationError(_("The file is empty."), code="file_empty")
    return data


def _too_large(limit: int) -> ValidationError:
    return ValidationError(
        _("The file is larger than %(limit)s.") % {"limit": filesizeformat(limit)}, code="file_too_large"
    )


def _decode(data: bytes, content_type: str) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[content_type]])
        if image.width * image.height > MAX_PIXELS:
            raise ValidationError(_("The photo has too many pixels."), code="image_too_large")
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ValidationError(
            _("This photo cannot be read: it may be damaged."), code="image_unreadable"
        ) from exc
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        background = Image.new("RGB", image.size, "white")
        background.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
        return background
    return image.convert("RGB")


def _jpeg(image: Image.Image, long_side: int, quality: int) -> tuple[bytes, int, int]:
    copy = image.copy()
    copy.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    copy.save(out, "JPEG", quality=quality, optimize=True, progressive=True)  # no EXIF kept
    return out.getvalue(), copy.width, copy.height


def check_photo(upload) -> str:
    """Refuse what is not a photo we take (size, type from its bytes); returns the content type.
    Cheap: decoding happens in `photo_store`."""
    data = _read(upload, PHOTO_MAX_BYTES)
    content_type = sniff(data[:16])
    if content_type not in IMAGE_TYPES:
        raise ValidationError(_("Send a photo as JPEG, PNG or WebP."), code="file_type")
    _decode(data, content_type)
    upload.seek(0)
    return content_type


def photo_store(*, upload) -> StoredImage:
    """Check, re-encode and store a photo and its small copy; returns what to record.

    Raises ValidationError (codes file_empty, file_too_large, file_type, image_too_large,
    image_unreadable). The caller deletes the files (`discard`) if its transaction fails."""
    data = _read(upload, PHOTO_MAX_BYTES)
    content_type = sniff(data[:16])
    if content_type not in IMAGE_TYPES:
        raise ValidationError(_("Send a photo as JPEG, PNG or WebP."), code="file_type")
    image = _decode(data, content_type)
    full, width, height = _jpeg(image, PHOTO_LONG_SIDE, 82)
    small, _w, _h = _jpeg(image, THUMBNAIL_LONG_SIDE, 70)
    stem = f"{PHOTO_DIR}/{uuid.uuid4().hex}"
    with discard_on_error():
        name = _save(f"{stem}.jpg", full)
        thumbnail_name = _save(f"{stem}-small.jpg", small)
    return StoredImage(
        name=name,
        thumbnail_name=thumbnail_name,
        content_type="image/jpeg",
        size=len(full),
        width=width,
        height=height,
        sha256=hashlib.sha256(full).hexdigest(),
    )


def document_store(*, upload) -> StoredFile:
    """An output's file: a PDF stored as sent, or an image re-encoded as a photo is."""
    data = _read(upload, DOCUMENT_MAX_BYTES)
    content_type = sniff(data[:16])
    if content_type in IMAGE_TYPES:
        if len(data) > PHOTO_MAX_BYTES:
            raise _too_large(PHOTO_MAX_BYTES)
        data, _w, _h = _jpeg(_decode(data, content_type), PHOTO_LONG_SIDE, 82)
        content_type, suffix = "image/jpeg", "jpg"
    elif content_type == "application/pdf":
        suffix = "pdf"
    else:
        raise ValidationError(_("Send a PDF or a photo (JPEG, PNG or WebP)."), code="file_type")
    name = _save(f"{OUTPUT_DIR}/{uuid.uuid4().hex}.{suffix}", data)
    return StoredFile(
        name=name, content_type=content_type, size=len(data), sha256=hashlib.sha256(data).hexdigest()
    )


def discard(*names: str) -> None:
    """Remove stored files (a transaction that recorded them failed, or their record is gone)."""
    for name in names:
        if name:
            try:
                default_storage.delete(name)
            except OSError:  # the storage is down: `manage.py backup` counts unreferenced files
                logger.warning("could not remove the stored file %s", name, exc_info=True)
