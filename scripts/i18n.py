#!/usr/bin/env python3
"""Translation catalogues: extract, check, compile.

compile  .po -> .mo with polib, so running Saha needs no gettext binaries
extract  refresh the Arabic and French catalogues from the code (needs gettext)
check    extract, then fail on any untranslated or fuzzy string
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "saha"
LOCALE = PACKAGE / "locale"
LANGUAGES = ("ar", "fr")


def catalogues() -> list[Path]:
    return sorted(LOCALE.glob("*/LC_MESSAGES/*.po"))


def compile_all() -> int:
    for po_path in catalogues():
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
    return 0


def _entries(path: Path) -> list[tuple[object, ...]]:
    return [
        (
            e.msgctxt,
            e.msgid,
            e.msgid_plural,
            e.msgstr,
            tuple(sorted(e.msgstr_plural.items())),
            tuple(e.flags),
        )
        for e in polib.pofile(str(path))
    ]


def extract() -> int:
    """Refresh the catalogues; a file whose entries did not change is left untouched.

    makemessages rewrites the header's creation date on every run, which would
    leave every checkout dirty after `make check`.
    """
    before = {path: (path.read_bytes(), _entries(path)) for path in catalogues()}
    code = _makemessages()
    for path, (content, entries) in before.items():
        if path.exists() and _entries(path) == entries:
            path.write_bytes(content)
    return code


def _makemessages() -> int:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "saha.config.settings_test",
        "SAHA_VAR_DIR": str(ROOT / "var" / "test"),
    }
    command = [
        sys.executable,
        "-m",
        "django",
        "makemessages",
        "--no-obsolete",
        "--add-location",
        "file",
        "--extension",
        "html,txt,md,py",
        "--ignore",
        "tests/*",
        "--ignore",
        "static/*",
        "--ignore",
        "migrations/*",
    ]
    for language in LANGUAGES:
        command += ["--locale", language]
    return subprocess.run(command, cwd=PACKAGE, env=env, check=False).returncode  # noqa: S603


def problems() -> list[str]:
    found = []
    for po_path in catalogues():
        catalogue = polib.pofile(str(po_path))
        relative = po_path.relative_to(ROOT)
        for entry in catalogue.untranslated_entries():
            found.append(f"{relative}: untranslated: {entry.msgid!r}")
        for entry in catalogue.fuzzy_entries():
            found.append(f"{relative}: fuzzy: {entry.msgid!r}")
    return found


def check() -> int:
    if extract() != 0:
        print("makemessages failed (is gettext installed?)", file=sys.stderr)
        return 1
    found = problems()
    for line in found:
        print(line, file=sys.stderr)
    if found:
        print(f"{len(found)} strings need translating: edit the .po files.", file=sys.stderr)
        return 1
    print(f"Translations complete: {', '.join(LANGUAGES)}.")
    return compile_all()


if __name__ == "__main__":
    commands = {"compile": compile_all, "extract": extract, "check": check}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(commands[sys.argv[1]]())
