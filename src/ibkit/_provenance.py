"""Which code made a run: the package version, the git commit (when the package is run from a
git checkout) and a SHA-256 of the package's own source files, which also tells two
installations apart where there is no git (a wheel) and stays the same across commits that
change only docs or tests."""

from __future__ import annotations

import functools
import hashlib
import subprocess
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def source_sha256(root: Path = PACKAGE_DIR) -> str:
    """SHA-256 (first 16 hex digits) over the relative path and bytes of every ``.py`` file
    under ``root``, in sorted order."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(PACKAGE_DIR), *args], capture_output=True,
                              text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


@functools.lru_cache(maxsize=1)
def code_version() -> dict[str, str | bool | None]:
    """``{"ibkit_version", "git_commit", "git_dirty", "source_sha256"}`` of the running code
    (``git_commit`` and ``git_dirty`` are None outside a git checkout; ``git_dirty``: the
    package's sources differ from that commit)."""
    from ibkit import __version__

    commit = _git("rev-parse", "HEAD")
    dirty = None if commit is None else bool(_git("status", "--porcelain", "--", "."))
    return {"ibkit_version": __version__, "git_commit": commit, "git_dirty": dirty,
            "source_sha256": source_sha256()}


def same_code(recorded: dict | None) -> bool:
    """Whether ``recorded`` (a run's ``code``) names the running code's sources."""
    if not recorded:
        return False
    return recorded.get("source_sha256") == code_version()["source_sha256"]


def describe(code: dict | None) -> str:
    """One short phrase: ``ibkit 0.1.0, commit 1a2b3c4 (modified), sources 9f8e...``."""
    if not code:
        return "unrecorded code (a run made before ibkit recorded its code)"
    commit = code.get("git_commit")
    where = f", commit {commit[:7]}{' (modified)' if code.get('git_dirty') else ''}" \
        if commit else ""
    return f"ibkit {code.get('ibkit_version')}{where}, sources {code.get('source_sha256')}"


def recorded_code(run_dir: str | Path) -> dict | None:
    """The ``code`` a run directory recorded (``summary.json``, else ``config.yaml``), or None."""
    import json

    from ibkit._io import read_yaml

    root = Path(run_dir)
    try:
        if (root / "summary.json").is_file():
            found = json.loads((root / "summary.json").read_text()).get("code")
            if found:
                return found
        if (root / "config.yaml").is_file():
            return (read_yaml(root / "config.yaml") or {}).get("code")
    except (OSError, ValueError):
        return None
    return None
