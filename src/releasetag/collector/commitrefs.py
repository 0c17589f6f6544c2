"""Resolve issues by commit message: ``Fixes WIDGETS-7`` in a commit of a release resolves
issue WIDGETS-7 in that release.

Keywords (any case): fix, fixes, fixed, close, closes, closed, resolve, resolves, resolved,
followed by a short ID (an optional ``:`` in between). A short ID naming another project than
the release's, or an issue that does not exist, is ignored and recorded with the reason
(``commit_issue_refs``), never an error. ``db/issues.apply_commit_refs`` applies them inside
the transaction that stores the release's commits.
"""

from __future__ import annotations

import re
from typing import List, Optional, Tuple

KEYWORDS = ("fix", "fixes", "fixed", "close", "closes", "closed", "resolve", "resolves", "resolved")
_REF = re.compile(
    r"\b(?:" + "|".join(KEYWORDS) + r")\b:?\s+([A-Za-z0-9][A-Za-z0-9_.-]*-\d+)\b", re.IGNORECASE
)


def issue_refs(message: Optional[str]) -> List[str]:
    """The short IDs a commit message says it fixes, upper-cased, in order, without repeats."""
    out: List[str] = []
    for match in _REF.finditer(message or ""):
        ref = match.group(1).upper()
        if ref not in out:
            out.append(ref)
    return out


def split_ref(ref: str) -> Tuple[str, int]:
    """``('WIDGETS', 7)`` for ``WIDGETS-7``."""
    prefix, _, num = ref.rpartition("-")
    return prefix, int(num)
