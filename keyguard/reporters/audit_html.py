"""The audit as one self-contained HTML file: no network, no CDN, keys redacted. A summary,
charts drawn as inline SVG, and a table people can sort and filter."""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable

from keyguard import __version__
from keyguard.audit import Repository, Secret, checklist, is_client_side
from keyguard.terminal import neutralise

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.5em}.cards{display:flex;gap:1em;flex-wrap:wrap}
.card{border:1px solid #ccc;border-radius:6px;padding:.6em 1em;min-width:8em}
.card b{display:block;font-size:1.6em}.charts{display:flex;gap:2em;flex-wrap:wrap}
figure{margin:0}figcaption{font-weight:600;margin:.5em 0}
table{border-collapse:collapse;width:100%;margin-top:1em}
th,td{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}
th{cursor:pointer;background:#f4f4f4;user-select:none}code{font-size:.95em}
.flag{display:inline-block;border-radius:3px;padding:0 .4em;margin-right:.2em;font-size:.85em}
.live{background:#fdd}.client{background:#ffe3b3}.shared{background:#dde8ff}
input{padding:.4em;width:24em;margin-top:1em}
"""

_SCRIPT = """
(function () {
  var table = document.getElementById('locations');
  var rows = function () { return Array.prototype.slice.call(table.tBodies[0].rows); };
  document.getElementById('filter').addEventListener('input', function (event) {
    var needle = event.target.value.toLowerCase();
    rows().forEach(function (row) {
      row.style.display = row.textContent.toLowerCase().indexOf(needle) >= 0 ? '' : 'none';
    });
  });
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell, index) {
    cell.addEventListener('click', function () {
      var ascending = cell.getAttribute('data-order') !== 'asc';
      cell.setAttribute('data-order', ascending ? 'asc' : 'desc');
      rows().sort(function (a, b) {
        var x = a.cells[index].textContent, y = b.cells[index].textContent;
        return ascending ? x.localeCompare(y) : y.localeCompare(x);
      }).forEach(function (row) { table.tBodies[0].appendChild(row); });
    });
  });
})();
"""


def render(secrets: list[Secret], repositories: list[Repository]) -> str:
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
             "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">",
             "<title>keyguard audit</title>", f"<style>{_STYLE}</style></head><body>",
             f"<h1>keyguard audit</h1><p>keyguard {__version__}, {len(repositories)} repositories.</p>",
             _cards(secrets, repositories), _charts(secrets), _table(secrets),
             _checklists(secrets), f"<script>{_SCRIPT}</script></body></html>"]
    return "\n".join(parts) + "\n"


def _e(text: object) -> str:
    return html.escape(neutralise(str(text)))


def _cards(secrets: list[Secret], repositories: list[Repository]) -> str:
    figures = [("distinct secrets", len(secrets)),
               ("live at HEAD", sum(1 for s in secrets if s.live_at_head)),
               ("client-side", sum(1 for s in secrets if s.client_side)),
               ("shared", sum(1 for s in secrets if s.shared)),
               ("locations", sum(len(s.locations) for s in secrets)),
               ("not scanned", sum(1 for r in repositories if r.error))]
    cards = "".join(f'<div class="card"><b>{n}</b>{_e(label)}</div>' for label, n in figures)
    missing = "".join(f"<p><b>Not scanned:</b> {_e(r.name)}: {_e(r.error)}</p>"
                      for r in repositories if r.error)
    return f'<section class="cards" id="summary">{cards}</section>{missing}'


def _charts(secrets: list[Secret]) -> str:
    months = Counter(s.first_appeared[:7] for s in secrets if s.first_appeared)
    repositories = Counter(repo for s in secrets for repo in {loc.repository for loc in s.locations})
    authors = Counter(author for s in secrets
                      for author in {loc.origin.author for loc in s.locations if loc.origin})
    return ('<section class="charts">'
            + _bars("Keys introduced per month", sorted(months.items()), "chart-time")
            + _bars("Keys per repository", repositories.most_common(12), "chart-repositories")
            + _bars("Keys per author", authors.most_common(12), "chart-authors") + "</section>")


def _bars(title: str, data: Iterable[tuple[str, int]], ident: str) -> str:
    items = list(data)
    top = max((n for _, n in items), default=1)
    height = 22 * max(1, len(items)) + 10
    bars = "".join(
        f'<text x="0" y="{22 * i + 16}" font-size="12">{_e(label[:28])}</text>'
        f'<rect x="190" y="{22 * i + 4}" width="{max(2, 200 * n // top)}" height="16" fill="#4a78c2">'
        f"<title>{_e(label)}: {n}</title></rect>"
        f'<text x="{196 + max(2, 200 * n // top)}" y="{22 * i + 16}" font-size="12">{n}</text>'
        for i, (label, n) in enumerate(items))
    return (f'<figure><figcaption>{_e(title)}</figcaption><svg id="{ident}" role="img" '
            f'width="440" height="{height}" aria-label="{_e(title)}">{bars}</svg></figure>')


def _table(secrets: list[Secret]) -> str:
    head = "".join(f"<th>{h}</th>" for h in ("secret", "confidence", "repository", "path", "commit",
                                             "author", "date", "at HEAD", "flags"))
    rows = []
    for secret in secrets:
        shown = secret.shown
        for loc in secret.locations:
            flags = ('<span class="flag live">live</span>' * loc.at_head
                     + '<span class="flag client">client-side</span>' * is_client_side(loc.path)
                     + '<span class="flag shared">shared</span>' * secret.shared)
            origin = loc.origin
            rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in (
                f"<code>{_e(shown)}</code>", _e(secret.confidence.label), _e(loc.repository),
                f"<code>{_e(loc.path)}:{loc.line}</code>", _e(origin.name if origin else "-"),
                _e(origin.author if origin else "-"), _e(origin.date[:10] if origin else "-"),
                "yes" if loc.at_head else "no", flags)) + "</tr>")
    return ('<h2>Secrets and their locations</h2><input id="filter" type="search" '
            'placeholder="Filter: repository, path, author…" aria-label="filter">'
            f'<table id="locations"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>')


def _checklists(secrets: list[Secret]) -> str:
    items = []
    for secret in secrets:
        shown = secret.shown
        steps = "".join(f"<li>{_e(step)}</li>" for step in checklist(secret))
        items.append(f"<details><summary><code>{_e(shown)}</code> rotation checklist</summary>"
                     f"<ol>{steps}</ol></details>")
    return '<h2>Rotation checklists</h2><section id="checklists">' + "".join(items) + "</section>"
