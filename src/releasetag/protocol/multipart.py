"""``multipart/form-data`` bodies for the Web API's upload endpoints (RFC 7578)."""

from __future__ import annotations

import uuid
from typing import Sequence, Tuple


def new_boundary() -> str:
    """A boundary no file content will contain by chance."""
    return uuid.uuid4().hex


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", " ").replace("\n", " ")


def part_header(
    boundary: str,
    name: str,
    filename: "str | None" = None,
    content_type: "str | None" = None,
) -> bytes:
    """The delimiter and headers that open one part (its content follows, then CRLF)."""
    disposition = f'form-data; name="{_quoted(name)}"'
    if filename is not None:
        disposition += f'; filename="{_quoted(filename)}"'
    head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
    if content_type:
        head += f"Content-Type: {content_type}\r\n"
    return (head + "\r\n").encode("utf-8")


def closing(boundary: str) -> bytes:
    """The delimiter that ends the body."""
    return f"--{boundary}--\r\n".encode("ascii")


def encode(
    fields: Sequence[Tuple[str, str]], files: Sequence[Tuple[str, str, bytes]]
) -> Tuple[bytes, str]:
    """``(body, content type)`` for text ``fields`` and ``files`` of (name, filename, bytes)."""
    boundary = new_boundary()
    out = bytearray()
    for name, value in fields:
        out += part_header(boundary, name) + value.encode("utf-8") + b"\r\n"
    for name, filename, content in files:
        out += part_header(boundary, name, filename, "application/octet-stream")
        out += content + b"\r\n"
    out += closing(boundary)
    return bytes(out), f"multipart/form-data; boundary={boundary}"
