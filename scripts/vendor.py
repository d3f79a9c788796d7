#!/usr/bin/env python3
"""Copy front-end libraries from the npm registry into saha/static/vendor/.

  scripts/vendor.py verify   check every vendored file against the manifest
  scripts/vendor.py update   fetch each package at its manifest version with
                             `npm pack` and copy its files (needs npm)

The manifest (saha/static/vendor/manifest.json) records name, version, licence
and a SHA-256 per file, so a reviewer sees exactly what runs in the browser.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VENDOR = Path(__file__).resolve().parent.parent / "saha" / "static" / "vendor"
MANIFEST = VENDOR / "manifest.json"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def verify() -> int:
    manifest = json.loads(MANIFEST.read_text())
    bad = 0
    for package in manifest["packages"]:
        for target, digest in package["sha256"].items():
            path = VENDOR / target
            if not path.exists() or sha256(path) != digest:
                print(f"{package['name']}: {target} differs from the manifest", file=sys.stderr)
                bad += 1
    return 1 if bad else 0


def update() -> int:
    manifest = json.loads(MANIFEST.read_text())
    for package in manifest["packages"]:
        spec = f"{package['name']}@{package['version']}"
        with tempfile.TemporaryDirectory() as tmp:
            out = (
                subprocess.run(  # noqa: S603
                    ["npm", "pack", spec, "--silent"],  # noqa: S607
                    cwd=tmp,
                    check=True,
                    capture_output=True,
                    text=True,
                )
                .stdout.strip()
                .splitlines()[-1]
            )
            with tarfile.open(Path(tmp) / out) as archive:
                archive.extractall(tmp, filter="data")
            for target, source in package["files"].items():
                destination = VENDOR / target
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(Path(tmp) / "package" / source, destination)
                package["sha256"][target] = sha256(destination)
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    commands = {"verify": verify, "update": update}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(commands[sys.argv[1]]())
