"""ingest: feeds -> article URLs -> HTML -> clean text.

Modules (see docs/internal-contracts.md):
- ``ingest.feeds``: feeds.yaml -> ``FeedConfig`` (``load_feeds``, ``FeedsFileError``)
- ``ingest.poll``: ``poll_feed`` for RSS/Atom/JSON Feed, XML sitemaps and local folders
- ``ingest.fetch``: ``FetchLimits``, ``make_client``, ``fetch_page``, ``fetch_many``
- ``ingest.clean``: ``clean_html`` (trafilatura) -> ``CleanArticle``
- ``ingest.html_tree``: page bytes -> text -> trafilatura's lxml tree (``decode_page``, ``parse_html``)
- ``ingest.main_text``: trafilatura's main text from a tree it may change
- ``ingest.page_meta``, ``ingest.language``: title, author, date, site name; the article's language
- ``ingest.audit``: whether trafilatura is the code those shortcuts were proven against
- ``ingest.urls``: ``canonicalize``
- ``ingest.content``: content-type rules and binary sniffing (shared by fetch and poll)
- ``ingest.robots``: ``RobotsCache`` (robots.txt checks, RFC 9309 semantics, Crawl-delay)
- ``ingest.crawl``: ``Crawler`` / ``crawl``: polite page fetching (robots, per-host delay and
  concurrency, SSRF guard, conditional requests)
- ``ingest.guard``: ``UrlGuard``, the SSRF rule for links found in feeds and pages
- ``ingest.decode``: capped Content-Encoding decoding (gzip bombs)
- ``ingest.discover``: feed discovery from a page's ``<link rel=alternate>``
- ``ingest.parse``: feed / JSON Feed / sitemap parsers (bytes in, links out)

Nothing is imported here on purpose: importing trafilatura is slow, and callers that only
need the config models should not pay for it. Errors are values (reason codes), never
exceptions, everywhere except ``load_feeds`` (a broken config must stop the run).
No Prefect and no DuckDB in this package.
"""
