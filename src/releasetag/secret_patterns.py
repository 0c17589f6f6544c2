"""Secrets recognized by their value, whatever key they sit under.

Each pattern names one kind; :func:`redact` replaces what they find with ``[Filtered]``
(for credentials in URLs and sensitive query-string parameters, only the secret part). Card
numbers must also pass the Luhn check, so order numbers and timestamps stay. Compiled at the
first event (``re`` stays out of ``import releasetag``).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Iterable, List, Optional, Pattern, Set, Tuple

FILTERED = "[Filtered]"

# (name, regex); a match is replaced whole unless the regex has a group named "secret"
PATTERNS: Tuple[Tuple[str, str], ...] = (
    (
        "pem_private_key",
        r"-----BEGIN[A-Z ]*PRIVATE KEY-----(?:.|\n)*?(?:-----END[A-Z ]*PRIVATE KEY-----|\Z)",
    ),
    # the password runs to the '@' that a host (no '@') and the end of the authority follow,
    # so it may hold '/' and '@'; an empty host ("user:pw@/db", a Unix socket) only when no
    # '@' follows in the same word; "host:8080/path@x" is a port, not a password
    (
        "url_credentials",
        r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,20}://[^\s:/@]*:(?!\d+(?:[/?#\s]|$))"
        r"(?P<secret>\S{1,256}?)@(?=[^\s@/?#]+(?:[\s/?#]|$)|[/?#][^\s@]*(?:\s|$)|\s|$)",
    ),
    (
        "slack_webhook",
        r"\bhooks\.slack\.com/(?:services|workflows|triggers)/(?P<secret>[\w/-]{16,})",
    ),
    # key=value assignments: libpq connection strings ("host=db password=s3cret"), .env and
    # INI lines, shell exports; a quoted value is filtered whole
    (
        "password_assignment",
        r"(?i)(?<![a-z0-9])(?:password|passwd|pwd)\s*=\s*"
        r"(?P<secret>'(?:[^'\\\n]|\\.){1,256}'|\"[^\"\n]{1,256}\"|[^\s'\"&;,]+)",
    ),
    (
        "aws_secret_access_key",
        r"(?i)\baws_secret_access_key\s*[=:]\s*[\"']?(?P<secret>[A-Za-z0-9/+=]{20,})",
    ),
    (
        "query_secret",
        r"(?i)[?&;](?:access_token|refresh_token|id_token|token|api_key|apikey|key|secret|"
        r"client_secret|password|passwd|pwd|auth|signature|sig|sessionid|session|code)="
        r"(?P<secret>[^&#\s]+)",
    ),
    # not a URL's scheme ("Basic postgres://app:pw@db" is the URL's password)
    (
        "authorization",
        r"(?i)\b(?:bearer|basic|token|digest)\s+(?P<secret>[A-Za-z0-9._~+/=-]{8,})"
        r"(?![A-Za-z0-9._~+/=-]|://)",
    ),
    ("jwt", r"\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}"),
    ("aws_access_key_id", r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b"),
    ("stripe_key", r"\b(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{10,}\b"),
    ("github_token", r"\b(?:gh[pousr]_[0-9A-Za-z]{30,}|github_pat_[0-9A-Za-z_]{22,})\b"),
    ("slack_token", r"\bxox[abposr]-[0-9A-Za-z-]{10,}\b"),
    ("gitlab_token", r"\bglpat-[0-9A-Za-z_-]{20,}\b"),
    ("google_api_key", r"\bAIza[0-9A-Za-z_-]{35}\b"),
    ("sendgrid_key", r"\bSG\.[0-9A-Za-z_-]{16,}\.[0-9A-Za-z_-]{16,}\b"),
    ("npm_token", r"\bnpm_[0-9A-Za-z]{36}\b"),
    ("sentry_token", r"\bsntry[su]_[0-9A-Za-z+/=_]{20,}"),
    ("card_number", r"(?<![\d.])\d(?:[ -]?\d){12,18}(?![\d.])"),
)

# Every pattern above needs one of these; most strings of an event (reprs of locals, words)
# have none, and this cheaper search rules them out (with a cache of strings found clean).
PREFILTER = (
    r"\d[\d -]{11,}\d|[0-9A-Z]{16}|_(?:live|test)_|gh[pousr]_|github_pat_|xox[abposr]-|"
    r"glpat-|AIza|SG\.|npm_|sntry|eyJ|PRIVATE KEY|://|[?&;][A-Za-z_]{2,}=|hooks\.slack|"
    r"(?i:passw(?:or)?d|pwd|secret_access_key)\s*[=:]|"
    r"(?:[Bb]earer|[Bb]asic|[Tt]oken|[Dd]igest|BEARER|BASIC|TOKEN|DIGEST)\s"
)
MIN_LENGTH = 13  # the shortest secret: a 13-digit card number
_compiled: Optional[Pattern[str]] = None
_prefilter: Optional[Pattern[str]] = None
_clean: Set[str] = set()  # strings found to hold no secret (bounded)
_CLEAN_MAX = 8192
_CLEAN_LONGEST = 512


def luhn_ok(digits: str) -> bool:
    total, odd = 0, False
    for ch in reversed(digits):
        n = ord(ch) - 48
        if odd:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
        odd = not odd
    return total % 10 == 0


def _pattern() -> Pattern[str]:
    global _compiled, _prefilter
    if _compiled is None:
        import re

        _prefilter = re.compile(PREFILTER)
        _compiled = re.compile(
            "|".join(
                f"(?P<{name}>{rx.replace('(?P<secret>', f'(?P<{name}_s>')})"
                for name, rx in _grouped()
            )
        )
    return _compiled


def _grouped() -> Iterable[Tuple[str, str]]:
    for name, rx in PATTERNS:
        inline = ""
        if rx.startswith("(?i)"):  # flags may not stand mid-pattern: scope them to the group
            inline, rx = "(?i:", rx[4:]
        yield name, (inline + rx + ")") if inline else rx


def add_patterns(patterns: Iterable[Any]) -> List[Pattern[str]]:
    """Compile the user's extra patterns (strings or compiled); matches are filtered whole."""
    import re

    return [p if hasattr(p, "finditer") else re.compile(str(p)) for p in patterns]


def redact(text: str, extra: Iterable[Pattern[str]] = (), allow: Any = ()) -> str:
    """``text`` with every secret found replaced by ``[Filtered]``; values in ``allow`` stay."""
    if len(text) >= MIN_LENGTH and text not in _clean:
        text = _redact_builtin(text, allow)
    for rx in extra:
        text = rx.sub(FILTERED, text)
    return text


def _redact_builtin(text: str, allow: Any) -> str:
    pattern = _pattern()
    assert _prefilter is not None
    if _prefilter.search(text) is None:
        if len(text) <= _CLEAN_LONGEST:
            if len(_clean) >= _CLEAN_MAX:
                _clean.clear()
            _clean.add(text)
        return text
    out: List[str] = []
    pos = 0
    for match in pattern.finditer(text):
        kind = match.lastgroup or ""
        if kind == "card_number":
            digits = match.group(0).replace(" ", "").replace("-", "")
            if not 13 <= len(digits) <= 19 or not luhn_ok(digits):
                continue
        secret_group = f"{kind}_s"
        span = match.span(secret_group) if secret_group in match.re.groupindex else match.span()
        if span[0] < 0:
            span = match.span()
        if text[span[0] : span[1]] in allow:
            continue
        out.append(text[pos : span[0]])
        out.append(FILTERED)
        pos = span[1]
    return "".join(out) + text[pos:] if out else text
