"""Turn the errors a user can cause into one plain sentence that names the thing and the fix.

Pydantic and YAML errors are precise but multi-line and addressed to
programmers ("1 validation error for MusterSettings ... For further information
visit ..."); an analyst wants "setting batch_size in muster.yaml must be at
least 1".  ``USER_ERRORS`` is the tuple the CLI catches; anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import yaml
from pydantic import ValidationError
from warehouse.errors import WarehouseError

USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, OSError, WarehouseError, yaml.YAMLError)


def one_sentence(exc: BaseException) -> str:
    """A single-line message for ``exc``: what is wrong, where, and what to do."""
    if isinstance(exc, ValidationError):
        return _validation(exc)
    if isinstance(exc, yaml.YAMLError):
        return _yaml(exc)
    if isinstance(exc, OSError) and not isinstance(exc, WarehouseError) and exc.filename:
        if isinstance(exc, IsADirectoryError):
            return f"{exc.filename} is a folder, not a file; give a file path."
        if isinstance(exc, PermissionError):
            return (f"No permission to use {exc.filename}; "
                    "choose another path or fix its permissions.")
        if isinstance(exc, FileNotFoundError):
            return f"No such file: {exc.filename}; check the path."
        return f"Cannot use {exc.filename}: {exc.strerror or exc}."
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _settings_sources() -> str:
    from flows.settings import user_settings_file

    try:
        user = user_settings_file()
    except OSError:
        user = None
    return f"{user}" if user else "muster.yaml / $MUSTER_CONFIG"


def _validation(exc: ValidationError) -> str:
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": str(exc), "type": ""}
    key = ".".join(str(part) for part in first.get("loc", ())) or "(top level)"
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    if exc.title == "MusterSettings":
        env = "MUSTER_" + key.upper().replace(".", "__")
        where = f"{_settings_sources()} or ${env}"
        if first.get("type") == "extra_forbidden":
            return (f"Unknown setting {key!r} in {_settings_sources()}{more}; remove it or fix "
                    "its spelling "
                    "(the settings are listed in configs/settings.yaml).")
        value = first.get("input")
        got = f" (got {value!r})" if value is not None and not isinstance(value, dict) else ""
        return f"Setting {key} in {where} is invalid: {first['msg'].rstrip('.')}{got}{more}."
    return f"Invalid {exc.title} field {key}: {first['msg'].rstrip('.')}{more}."


def _yaml(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if mark is not None:
        return (f"{mark.name}, line {mark.line + 1}, column {mark.column + 1} is not valid YAML: "
                f"{problem}; fix the file.")
    return f"A YAML file is not valid: {problem}; fix the file."


def parse_date(value: str | None, option: str) -> dt.date | None:
    """A ``YYYY-MM-DD`` command-line date (or ``today``, or ``N days ago`` as ``-Nd``)."""
    if value is None:
        return None
    text = value.strip().lower()
    if text == "today":
        return dt.date.today()
    if text.startswith("-") and text.endswith("d") and text[1:-1].isdigit():
        return dt.date.today() - dt.timedelta(days=int(text[1:-1]))
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{option} {value!r} is not a date; use YYYY-MM-DD (e.g. {option} 2025-04-28), "
            "'today', or -7d for seven days ago."
        ) from None


def check_writable(path: Path, what: str) -> None:
    """Fail early, in one sentence, when ``path``'s folder cannot be created or written."""
    if path.expanduser().is_dir():
        raise ValueError(f"The {what} path {path} is a folder; give a file path such as "
                         f"{path / ('muster.duckdb' if what == 'database' else 'report.html')}.")
    folder = path.expanduser().parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OSError(f"Cannot create the folder {folder} for the {what}: "
                      f"{exc.strerror or exc}; choose another path.") from exc
    if not os.access(folder, os.W_OK):
        raise PermissionError(f"Cannot write the {what} {path.expanduser()}: its folder {folder} "
                              "is not writable; choose another path.")
