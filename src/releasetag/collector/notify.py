"""Deploy notifications: when a deploy is recorded, each distinct author of the release's
commits gets one email through the SMTP server of ``releasetag serve --smtp HOST:PORT``.

Every recipient is recorded with what happened (``sent``, ``failed: reason``, or ``not sent``
when no SMTP server is configured), so nobody is dropped silently: the release page and the
deploy's API record show who was, or would have been, told.
"""

from __future__ import annotations

import smtplib
import socket
import sqlite3
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any, Dict, List, Optional, Tuple

from releasetag.collector.db import notifications as notifications_db
from releasetag.collector.db.store import Store

SENT, FAILED, NOT_SENT = "sent", "failed", "not sent"


@dataclass(frozen=True)
class Mailer:
    """Where deploy mail goes: an SMTP server (plain SMTP, no auth: a local relay or a test
    server) and the From address."""

    host: str
    port: int
    mail_from: str
    timeout: float = 10.0

    def send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.send_message(message)


def parse_smtp(value: str) -> Tuple[str, int]:
    """``HOST:PORT`` (``[::1]:25`` for IPv6) as (host, port); ValueError with a reason."""
    text = value.strip()
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--smtp {value!r} is not HOST:PORT (for example 127.0.0.1:1025)")
    return host.strip("[]"), int(port)


def recipients(store: Store, release_id: int) -> List[Tuple[Optional[str], str]]:
    """Distinct (name, email) of the release's commit authors, in commit order."""
    seen: Dict[str, Tuple[Optional[str], str]] = {}
    for commit in store.release_commits(release_id):
        email = (commit.get("author_email") or "").strip()
        if email and email.lower() not in seen:
            seen[email.lower()] = (commit.get("author_name"), email)
    return list(seen.values())


def _message(
    mailer: Mailer,
    name: Optional[str],
    email: str,
    version: str,
    deploy: sqlite3.Row,
    commits: List[Dict[str, Any]],
    page: str,
) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = f"Deployed: {version} to {deploy['environment']}"
    msg["From"] = mailer.mail_from
    msg["To"] = formataddr((name or "", email))
    msg["Message-ID"] = make_msgid(domain="releasetag.local")
    mine = [c for c in commits if (c.get("author_email") or "").lower() == email.lower()]
    lines = [
        f"Release {version} was deployed to {deploy['environment']}"
        + (f" ({deploy['name']})" if deploy["name"] else "")
        + ".",
        "",
        "Your commits in this release:",
    ]
    lines += [
        f"  {c['key'][:12]}  {((c.get('message') or '').splitlines() or [''])[0]}" for c in mine
    ]
    if page:
        lines += ["", f"Release page: {page}"]
    msg.set_content("\n".join(lines) + "\n")
    return msg


def notify_deploy(
    store: Store, mailer: Optional[Mailer], version: str, deploy: sqlite3.Row, page: str = ""
) -> List[Dict[str, Any]]:
    """Mail the release's commit authors about a deploy (when a mailer is set) and record
    one notification per author; returns the records."""
    release = store.release(version)
    if release is None:
        return []
    people = recipients(store, release["id"])
    commits = store.release_commits(release["id"]) if mailer else []
    records = []
    for name, email in people:
        if mailer is None:
            status, detail = NOT_SENT, "no SMTP server configured (releasetag serve --smtp)"
        else:
            try:
                mailer.send(_message(mailer, name, email, version, deploy, commits, page))
                status, detail = SENT, None
            except (OSError, smtplib.SMTPException, socket.timeout) as exc:
                status, detail = FAILED, f"{type(exc).__name__}: {exc}"[:300]
        records.append({"name": name, "email": email, "status": status, "detail": detail})
    notifications_db.record(store, deploy["id"], records)
    return records


def notifications(store: Store, deploy_id: int) -> List[Dict[str, Any]]:
    """The recorded notifications of one deploy."""
    return notifications_db.of_deploy(store, deploy_id)
