"""ingest.feeds: feeds.yaml validation with errors that point at file, feed and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.feeds import FeedConfig, FeedsFileError, load_feeds


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_valid_file(tmp_path: Path) -> None:
    (tmp_path / "pages").mkdir()
    path = write(
        tmp_path,
        """
feeds:
  - name: bbc-world
    url: https://feeds.bbci.co.uk/news/world/rss.xml
    max_items: 50
  - name: local
    url: pages
    kind: folder
  - name: "off"
    url: https://example.com/atom.xml
    kind: atom
    enabled: false
""",
    )
    feeds = load_feeds(path)
    assert [f.name for f in feeds] == ["bbc-world", "local", "off"]
    assert feeds[0].kind == "auto" and feeds[0].max_items == 50 and feeds[0].enabled
    # Relative local paths are resolved against the feeds file, not the working directory.
    assert feeds[1].url == str((tmp_path / "pages").resolve())
    assert feeds[2].enabled is False


def assert_error(path: Path, *parts: str) -> FeedsFileError:
    with pytest.raises(FeedsFileError) as info:
        load_feeds(path)
    message = str(info.value)
    assert str(path) in message
    for part in parts:
        assert part in message, message
    assert isinstance(info.value, ValueError)
    return info.value


def test_typo_key_names_file_feed_and_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
feeds:
  - name: a
    url: https://example.com/rss
  - name: b
    url: https://example.com/rss2
    max_itmes: 3
""",
    )
    err = assert_error(path, "'b'", "#2", "max_itmes", "unknown key")
    assert err.feed is not None and err.key == "max_itmes"


def test_missing_name_is_named_by_index(tmp_path: Path) -> None:
    path = write(tmp_path, "feeds:\n  - url: https://example.com/rss\n")
    assert_error(path, "feed #1", "'name'")


def test_duplicate_names(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
feeds:
  - {name: a, url: "https://example.com/1"}
  - {name: a, url: "https://example.com/2"}
""",
    )
    assert_error(path, "'a' (#2)", "duplicate", "'name'")


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ('{name: a, url: "https://x.org/f", kind: rdf}', "'kind'"),
        ('{name: a, url: "ftp://x.org/f"}', "'url'"),
        ('{name: a, url: "https://x.org/f", max_items: 0}', "'max_items'"),
        ('{name: a, url: "https://x.org/f", enabled: maybe}', "'enabled'"),
        ('{name: a, url: "https://x.org/f", kind: folder}', "'kind'"),
        ('{name: "", url: "https://x.org/f"}', "'name'"),
        ('{name: a, url: "https:///nohost"}', "'url'"),
    ],
)
def test_bad_values(tmp_path: Path, entry: str, key: str) -> None:
    assert_error(write(tmp_path, f"feeds:\n  - {entry}\n"), key)


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("feeds: [\n", "invalid YAML"),
        ("- a\n- b\n", "mapping"),
        ("feeds: {}\n", "'feeds'"),
        ("feeds: []\nfeed: []\n", "'feed'"),
        ("feeds:\n  - just-a-string\n", "feed #1"),
        ("", "mapping"),
    ],
)
def test_bad_structure(tmp_path: Path, text: str, part: str) -> None:
    assert_error(write(tmp_path, text), part)


def test_yaml_boolean_name_gets_a_hint(tmp_path: Path) -> None:
    assert_error(
        write(tmp_path, "feeds:\n  - {name: off, url: 'https://x.org/f'}\n"), "'name'", "quote it"
    )


def test_missing_file(tmp_path: Path) -> None:
    assert_error(tmp_path / "nope.yaml", "cannot read")


def test_feed_config_is_strict() -> None:
    with pytest.raises(ValueError):
        FeedConfig(name="a", url="https://x.org", colour="red")  # type: ignore[call-arg]
    assert FeedConfig(name="a", url="file:///tmp/x", kind="folder").kind == "folder"
