"""Deploy notifications: when a deploy is recorded, each distinct author of the release's
commits gets one email through the SMTP server of ``releasetag serve --smtp HOST:PORT``.

Every recipient is recorded with what happened (``sent``, ``failed`` and why, ``not sent`` when
no SMTP server is configured, or ``skipped`` and why when the address cannot be mailed, say a
commit author with a line break in it), so nobody is dropped silently: the release page and
the deploy's API record show who was, or would have been, told.

The deploy and its notification records are stored in one transaction after the mail went
out: a bad address never fails the deploy, and a failed request stores nothing, so a retry
does not add a second deploy.
"""

from __future__ import annotations

import re
import smtplib
import socket
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from functools import partial
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from releasetag.collector.db.store import Store

SENT, FAILED, NOT_SENT, SKIPPED = "sent", "failed", "not sent", "skipped"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+")


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


def address_problem(email: str) -> Optional[str]:
    """Why ``email`` cannot be mailed, or None."""
    if _CONTROL.search(email):
        return "the address has a line break or another control character"
    if not email.isascii():
        return "the address is not ASCII"
    if not _ADDRESS.fullmatch(email):
        return "not an email address (NAME@DOMAIN)"
    return None


def _message(
    mailer: Mailer,
    name: Optional[str],
    email: str,
    version: str,
    deploy: Dict[str, Any],
    commits: List[Dict[str, Any]],
    page: str,
) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = _CONTROL.sub(" ", f"Deployed: {version} to {deploy['environment']}")
    msg["From"] = mailer.mail_from
    msg["To"] = formataddr((_CONTROL.sub(" ", name or ""), email))
    msg["Message-ID"] = make_msgid(domain="releasetag.local")
    mine = [c for c in commits if (c.get("author_email") or "").lower() == email.lower()]
    lines = [
        f"Release {version} was deployed to {deploy['environment']}"
        + (f" ({deploy['name']})" if deploy.get("name") else "")
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


def _tell(
    mailer: Optional[Mailer], email: str, build: Callable[[Mailer], EmailMessage]
) -> Tuple[str, Optional[str]]:
    """(status, detail) of telling one person."""
    problem = address_problem(email)
    if problem is not None:
        return SKIPPED, problem
    if mailer is None:
        return NOT_SENT, "no SMTP server configured (releasetag serve --smtp)"
    try:
        message = build(mailer)
    except (ValueError, TypeError) as exc:  # a header the email package refuses
        return SKIPPED, f"cannot write this mail: {exc}"[:300]
    try:
        mailer.send(message)
    except (OSError, smtplib.SMTPException, socket.timeout, ValueError) as exc:
        return FAILED, f"{type(exc).__name__}: {exc}"[:300]
    return SENT, None


def notify_deploy(
    store: Store, mailer: Optional[Mailer], version: str, deploy: Dict[str, Any], page: str = ""
) -> Tuple[Any, List[Dict[str, Any]]]:
    """Mail the release's commit authors about a deploy (when a mailer is set), then store
    the deploy and one notification record per author in one transaction; returns the
    stored deploy row and the records."""
    release = store.release(version)
    people = recipients(store, release["id"]) if release is not None else []
    commits = store.release_commits(release["id"]) if mailer and release is not None else []
    records = []
    for name, email in people:
        build = partial(
            _message,
            name=name,
            email=email,
            version=version,
            deploy=deploy,
            commits=commits,
            page=page,
        )
        status, detail = _tell(mailer, email, build)
        records.append({"name": name, "email": email, "status": status, "detail": detail})
    return store.add_deploy(version, deploy, records), records


def notifications(store: Store, deploy_ids: Sequence[int]) -> Dict[int, List[Dict[str, Any]]]:
    """The recorded notifications of the deploys, by deploy id."""
    return store.deploy_notifications(deploy_ids)
