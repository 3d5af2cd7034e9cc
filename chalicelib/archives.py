"""Dependencies a Lambda package ships compressed (``scripts/package.py``), unpacked on first use.

Lambda counts a package's unzipped size against 250 MB, and a zip inside the package at its
compressed size: the weekly fit carries scipy (143 MB installed) as ``_archived/scipy.zip`` and
unpacks it into ``/tmp`` the first time a warm Lambda needs it (a second or two, once a week).
Where there is no archive (the local stack, the tests, every other package) the library is
installed as usual and this does nothing.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

#: The folder of the archives, beside ``app.py`` in the package.
FOLDER = "_archived"


def unpack(name: str) -> None:
    """Put the archived dependency ``name`` on the import path (once per process)."""
    archive = Path(__file__).resolve().parents[1] / FOLDER / f"{name}.zip"
    if not archive.exists():
        return
    target = Path(tempfile.gettempdir()) / "loyalty-archived" / f"{name}-{archive.stat().st_size}"
    if not (target / ".complete").exists():
        # Unpacked beside and renamed: a Lambda stopped halfway leaves no half-folder behind it.
        partial = target.with_name(f"{target.name}.{os.getpid()}")
        shutil.rmtree(partial, ignore_errors=True)
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(partial)
        (partial / ".complete").touch()
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
    if str(target) not in sys.path:
        sys.path.append(str(target))  # after the package: its numpy stays the one scipy runs on
