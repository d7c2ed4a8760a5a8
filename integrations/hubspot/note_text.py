"""The text of HubSpot notes: a decision event (or a batch of them) as a note's body, a line a
person reads in the CRM timeline and the events as JSON at its end (`dealreg-event {…}`), and the
operations log as a note of its own (`dealreg-log {…}`); and the rows read back from them, which is
what `dealreg export decisions` and the sweep read. Pure: no I/O."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime

from dealreg.models import DIRECT
from dealreg.records import parse_datetime
from integrations.store.rows import DECISION_COLUMNS

NOTE_MARK = "dealreg-event "
NOTE_LIMIT = 60_000  # hs_note_body holds 65,536 characters (notes guide); a margin for the markup
_EVENT = re.compile(r"<p>" + re.escape(NOTE_MARK) + r"(.*?)</p>", re.DOTALL)


def _line(row: Mapping[str, str]) -> str:
    who = row.get("party") or DIRECT
    attribution = row.get("attribution_primary", "")
    if row.get("attribution_secondary"):
        attribution += f" / {row['attribution_secondary']}"
    facts = [f"owner {row['owner']}" if row.get("owner") else "", attribution,
             f"rule {row['rule']}" if row.get("rule") else "",
             f"evidence {row['match_evidence']}" if row.get("match_evidence") else ""]
    head = f"{row.get('action', '')} {row.get('registration_id', '')}".replace("  ", " ").strip()
    return (f"<b>{html.escape(head)} for {html.escape(who)}: {html.escape(row.get('status', ''))}</b> "
            f"({html.escape(', '.join(f for f in facts if f))}, {html.escape(row.get('source', ''))}, "
            f"{html.escape(row.get('decided_at', ''))})<br>{html.escape(row.get('reason', ''))}")


def note_bodies(rows: Sequence[Mapping[str, str]]) -> list[str]:
    """Decision rows (`event_to_row`) as note bodies: a line a person reads for each, the rules
    hash, and each event as JSON for `dealreg export decisions`; split so that no body passes
    HubSpot's 65,536 characters."""
    bodies: list[str] = []
    chunk: list[tuple[str, str]] = []
    size = 0
    for row in rows:
        line = f"<p>{_line(row)}</p>"
        data = f"<p>{NOTE_MARK}{html.escape(json.dumps(dict(row), ensure_ascii=False, separators=(',', ':')))}</p>"
        if chunk and size + len(line) + len(data) > NOTE_LIMIT:
            bodies.append(_body(chunk))
            chunk, size = [], 0
        chunk.append((line, data))
        size += len(line) + len(data)
    if chunk:
        bodies.append(_body(chunk))
    return bodies


def _body(chunk: Sequence[tuple[str, str]]) -> str:
    rules = {json.loads(html.unescape(d[len(f"<p>{NOTE_MARK}"):-4])).get("rules_hash", "") for _, d in chunk}
    title = "dealreg decision" if len(chunk) == 1 else f"dealreg: {len(chunk)} decisions"
    hashes = ", ".join(sorted(h[:12] for h in rules if h))
    return (f"<p><strong>{title}</strong></p>" + "".join(line for line, _ in chunk)
            + (f"<p>rules sha256 {hashes}</p>" if hashes else "") + "".join(data for _, data in chunk))


def note_rows(body: str) -> list[dict[str, str]]:
    """The decision rows a note holds (none for a note dealreg did not write)."""
    rows: list[dict[str, str]] = []
    for found in _EVENT.findall(body or ""):
        try:
            data = json.loads(html.unescape(re.sub(r"<[^>]*>", "", found)))
        except ValueError:
            continue  # an edited note: its other events still count
        if isinstance(data, dict) and data.get("event_id"):
            rows.append({c: str(data.get(c) or "") for c in DECISION_COLUMNS})
    return rows


LOG_MARK = "dealreg-log "
_LOG = re.compile(r"<p>" + re.escape(LOG_MARK) + r"(.*?)</p>", re.DOTALL)


def log_body(rows: Sequence[Mapping[str, str]]) -> str:
    """The operations log's entries as one note on no object: a line each, then the entries as JSON."""
    lines = "".join(f"<p>{html.escape(r['kind'])} {html.escape(r['key'])}: {html.escape(r['status'])} "
                    f"{html.escape(r['detail'])}</p>" for r in rows)
    data = "".join(f"<p>{LOG_MARK}{html.escape(json.dumps(dict(r), ensure_ascii=False, separators=(',', ':')))}</p>"
                   for r in rows)
    return f"<p><strong>dealreg log</strong></p>{lines}{data}"


def log_rows(body: str) -> list[dict[str, str]]:
    """The log entries a note holds (none for any other note)."""
    rows: list[dict[str, str]] = []
    for found in _LOG.findall(body or ""):
        try:
            data = json.loads(html.unescape(re.sub(r"<[^>]*>", "", found)))
        except ValueError:
            continue
        if isinstance(data, dict):
            rows.append({str(k): str(v if v is not None else "") for k, v in data.items()})
    return rows


def timestamp_ms(text_: str) -> int:
    """A note's `hs_timestamp`: when the (first) decision was made."""
    try:
        return int(parse_datetime(text_).timestamp() * 1000)
    except ValueError:
        return int(datetime.now().timestamp() * 1000)
