"""Static files for the test session, collected as production collects them.

Test settings use whitenoise's CompressedManifestStaticFilesStorage (hashed names, .gz and .br
copies), so every page a test renders names the files a real deployment serves, and browser
tests measure the bytes a phone really receives. Collecting takes seconds, so it runs only when
the sources changed since the last session (a fingerprint of every file the finders list), under
a file lock so that two test sessions on one machine do not collect into the same folder at once.
"""

from __future__ import annotations

import fcntl
import hashlib
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command

STAMP_NAME = ".sources-fingerprint"


def sources_fingerprint() -> str:
    digest = hashlib.sha256(settings.STORAGES["staticfiles"]["BACKEND"].encode())
    for finder in finders.get_finders():
        for path, storage in sorted(finder.list([]), key=lambda item: item[0]):
            stat = Path(storage.path(path)).stat()
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def ensure_collected() -> Path:
    """Collect static files into STATIC_ROOT unless they are already there and current."""
    root = Path(settings.STATIC_ROOT)
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / f"{root.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        fingerprint = sources_fingerprint()
        stamp = root / STAMP_NAME
        manifest = root / "staticfiles.json"
        if manifest.exists() and stamp.exists() and stamp.read_text() == fingerprint:
            return root
        call_command("collectstatic", interactive=False, verbosity=0, clear=True)
        stamp.write_text(fingerprint)
    return root
