"""URL canonicalisation.

The warehouse keys articles by canonical URL and de-duplicates on it, so two spellings of
the same link (``HTTPS://Example.com:443/a?utm_source=x#top`` and ``https://example.com/a``)
must map to one string. We do this ourselves rather than with ``courlan.normalize_url``
because courlan's tracker filter also drops meaningful parameters such as ``source`` or
``ref`` on some sites and keeps fragments; here the rules are small, explicit and tested.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

__all__ = ["canonicalize", "file_url_to_path", "is_tracking_param", "path_to_file_url"]

_TRACKING_EXACT = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "ref_src",
        "ref_url",
        "cmpid",
        "ocid",
        "smid",
        "smtyp",
        "at_medium",
        "at_campaign",
        "wt.mc_id",
        "spm",
        "__twitter_impression",
        "s_cid",
        "icid",
    }
)
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "oly_", "vero_")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters that must stay percent-encoded in a path; everything else unreserved is decoded.
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_MULTI_SLASH = re.compile(r"/{2,}")


def is_tracking_param(name: str) -> bool:
    """True for query keys that only identify a campaign or click, never the content."""
    low = name.lower()
    return low in _TRACKING_EXACT or low.startswith(_TRACKING_PREFIXES)


def _normalise_path(path: str) -> str:
    """Re-encode the path uniformly so ``%7E`` and ``~`` (or ``%2f`` case) compare equal."""
    if not path:
        return "/"
    path = _MULTI_SLASH.sub("/", path)
    segments = []
    for seg in path.split("/"):
        # Decode then re-encode; keep an encoded slash encoded so segments don't merge.
        parts = [quote(unquote(p), safe=_PATH_SAFE.replace("%", "")) for p in seg.split("%2F")]
        segments.append("%2F".join(parts))
    out = "/".join(segments)
    # Resolve dot segments the way browsers do.
    resolved: list[str] = []
    for seg in out.split("/")[1:]:
        if seg == "..":
            if resolved:
                resolved.pop()
        elif seg != ".":
            resolved.append(seg)
    trailing = out.endswith(("/.", "/..")) and resolved and resolved[-1] != ""
    result = "/" + "/".join(resolved)
    return result + "/" if trailing else result


def canonicalize(url: str) -> str:
    """Return the canonical spelling of ``url`` (never raises; odd input comes back stripped).

    Lowercases scheme and host, removes default ports, userinfo-free hosts stay as they are,
    drops the fragment, drops tracking parameters and sorts the remaining query parameters
    (order carries no meaning for the servers we crawl, and sorting makes duplicates collide).
    ``file://`` URLs keep their path untouched apart from normalisation of the scheme.
    """
    raw = (url or "").strip()
    try:
        parts = urlsplit(raw)
    except ValueError:
        return raw
    scheme = parts.scheme.lower()
    if scheme == "file":
        return urlunsplit(("file", parts.netloc.lower(), parts.path or "/", "", ""))
    if scheme not in ("http", "https") or not parts.hostname:
        return raw
    host = parts.hostname.lower().rstrip(".")
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        pass
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if ":" not in host else f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{netloc}:{port}"
    if parts.username:
        userinfo = parts.username + (f":{parts.password}" if parts.password else "")
        netloc = f"{userinfo}@{netloc}"
    query_pairs = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not is_tracking_param(k)
    ]
    query_pairs.sort()
    query = urlencode(query_pairs, quote_via=quote, safe="/:@!$'()*+,;-._~")
    return urlunsplit((scheme, netloc, _normalise_path(parts.path), query, ""))


def path_to_file_url(path: Path) -> str:
    """``file://`` URL for a local path (absolute, resolved), used for folder feeds."""
    return path.resolve().as_uri()


def file_url_to_path(url: str) -> Path:
    """Inverse of :func:`path_to_file_url`; accepts ``file:///abs`` and ``file://localhost/abs``."""
    parts = urlsplit(url)
    return Path(unquote(parts.path))
