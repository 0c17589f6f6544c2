"""Small WSGI request/response helpers for the collector (no framework dependency)."""

from __future__ import annotations

import zlib
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple
from urllib.parse import parse_qs

from releasetag.protocol import jsonfmt
from releasetag.protocol.errors import InputError

# Limits (bytes). Generous for a local tool, small enough that a bad client cannot exhaust memory.
MAX_BODY = 40 * 1024 * 1024  # raw request body (chunk uploads are up to 32 MiB)
MAX_INFLATED = 64 * 1024 * 1024  # a body after gzip/deflate
MAX_JSON_BODY = 4 * 1024 * 1024  # JSON bodies of the Web API

STATUS_TEXT = {
    200: "OK",
    201: "Created",
    204: "No Content",
    208: "Already Reported",
    303: "See Other",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    411: "Length Required",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    421: "Misdirected Request",
    500: "Internal Server Error",
    503: "Service Unavailable",
    507: "Insufficient Storage",
}


class HTTPError(InputError):
    """An error answer: ``status`` and a one-line ``detail`` sent as ``{"detail": ...}``."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class Response:
    """A status, headers and a bytes body."""

    def __init__(
        self,
        body: bytes = b"",
        status: int = 200,
        content_type: str = "application/json",
        headers: Optional[List[Tuple[str, str]]] = None,
    ) -> None:
        self.body = body
        self.status = status
        self.headers = [("Content-Type", content_type)] + list(headers or [])

    def __call__(self, start_response: Callable) -> Iterable[bytes]:
        status = f"{self.status} {STATUS_TEXT.get(self.status, 'Unknown')}"
        start_response(status, self.headers + [("Content-Length", str(len(self.body)))])
        return [self.body]


def json_response(
    data: Any, status: int = 200, headers: Optional[List[Tuple[str, str]]] = None
) -> Response:
    return Response(jsonfmt.dumps(data), status, "application/json", headers)


def html_response(html: str, status: int = 200) -> Response:
    return Response(
        html.encode("utf-8"),
        status,
        "text/html; charset=utf-8",
        [
            ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"),
            ("X-Content-Type-Options", "nosniff"),
        ],
    )


def error_response(exc: HTTPError) -> Response:
    return json_response({"detail": exc.detail}, exc.status)


class Request:
    """The parts of a WSGI environ the collector uses; the body is read once, within limits."""

    def __init__(self, environ: Dict[str, Any]) -> None:
        self.environ = environ
        self.method = environ.get("REQUEST_METHOD", "GET").upper()
        raw_path = environ.get("PATH_INFO", "") or "/"
        try:  # WSGI gives the path as latin-1 decoded bytes; names are UTF-8
            self.path = raw_path.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            self.path = raw_path
        self.query = {
            k: v[-1]
            for k, v in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).items()
        }
        self._body: Optional[bytes] = None

    def query_all(self, name: str) -> List[str]:
        """Every value of a repeated query parameter (``field=a&field=b``), in order."""
        values = parse_qs(self.environ.get("QUERY_STRING", ""), keep_blank_values=True)
        return values.get(name, [])

    def header(self, name: str, default: Optional[str] = None) -> Optional[str]:
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            return self.environ.get(key) or default
        return self.environ.get("HTTP_" + key, default)

    @property
    def base_url(self) -> str:
        scheme = self.environ.get("wsgi.url_scheme", "http")
        host = self.header("Host") or (
            f"{self.environ.get('SERVER_NAME', '127.0.0.1')}:{self.environ.get('SERVER_PORT', '')}"
        )
        return f"{scheme}://{host}"

    def raw_body(self, limit: int = MAX_BODY) -> bytes:
        """The request body as sent (413 when over ``limit``)."""
        if self._body is not None:
            return self._body
        length_text = self.environ.get("CONTENT_LENGTH") or ""
        stream = self.environ["wsgi.input"]
        if length_text:
            try:
                length = int(length_text)
            except ValueError:
                raise HTTPError(400, "invalid Content-Length") from None
            if length > limit:
                raise HTTPError(
                    413, f"request body of {length} bytes is over the limit of {limit} bytes"
                )
            data = stream.read(length) if length > 0 else b""
            if len(data) != max(length, 0):  # the server hands over whole bodies only
                raise HTTPError(400, "request body shorter than its Content-Length")
        else:
            data = b""
        self._body = data
        return data

    def body(self, limit: int = MAX_BODY, inflated_limit: int = MAX_INFLATED) -> bytes:
        """The body after Content-Encoding (gzip, deflate) is undone, within limits."""
        data = self.raw_body(limit)
        encoding = (self.header("Content-Encoding") or "").strip().lower()
        if encoding in ("", "identity"):
            return data
        if encoding in ("gzip", "x-gzip"):
            return inflate(data, 16 + zlib.MAX_WBITS, inflated_limit, "gzip")
        if encoding == "deflate":
            try:
                return inflate(data, zlib.MAX_WBITS, inflated_limit, "deflate")
            except HTTPError as exc:
                if exc.status != 400:
                    raise
                return inflate(data, -zlib.MAX_WBITS, inflated_limit, "deflate")  # raw deflate
        if encoding == "br":
            return unbrotli(data, inflated_limit)
        raise HTTPError(415, f"unsupported Content-Encoding {encoding!r} (use gzip or deflate)")

    def json(self, limit: int = MAX_JSON_BODY) -> Any:
        """The body parsed as JSON (400 with a one-line reason when it is not)."""
        data = self.body(limit, limit)
        if not data.strip():
            return {}
        try:
            return jsonfmt.loads(data, "request body")
        except jsonfmt.JsonError as exc:
            raise HTTPError(400, str(exc)) from None


def inflate(data: bytes, wbits: int, limit: int, name: str) -> bytes:
    """Decompress ``data``; 413 when the output would pass ``limit``, 400 when it is corrupt."""
    decomp = zlib.decompressobj(wbits)
    try:
        out = decomp.decompress(data, limit + 1)
        if len(out) > limit or decomp.unconsumed_tail:
            raise HTTPError(413, f"{name} body inflates to more than {limit} bytes")
        out += decomp.flush()
    except zlib.error as exc:
        raise HTTPError(400, f"body is not valid {name}: {exc}") from None
    if len(out) > limit:
        raise HTTPError(413, f"{name} body inflates to more than {limit} bytes")
    if not decomp.eof:
        raise HTTPError(400, f"body is not valid {name}: truncated stream")
    return out


def unbrotli(data: bytes, limit: int) -> bytes:
    """Undo ``Content-Encoding: br`` (sentry-sdk picks it when the brotli module is installed).

    Needs the optional ``brotli`` module (``pip install brotli``)."""
    try:
        import brotli
    except ImportError:
        raise HTTPError(
            415,
            "Content-Encoding br needs the brotli module on the collector "
            "(pip install brotli), or send gzip",
        ) from None
    decomp = brotli.Decompressor()
    try:
        try:
            out = decomp.process(data, output_buffer_limit=limit + 1)
        except TypeError:  # brotli < 1.2 has no output limit: check after the fact
            out = decomp.process(data)
        if len(out) > limit or (len(out) == limit and not decomp.is_finished()):
            raise HTTPError(413, f"br body inflates to more than {limit} bytes")
        if not decomp.is_finished():
            raise HTTPError(400, "body is not valid br: truncated stream")
    except brotli.error as exc:
        raise HTTPError(400, f"body is not valid br: {exc}") from None
    return out


def parse_multipart(body: bytes, content_type: str) -> List[Dict[str, Any]]:
    """Split a multipart/form-data body into parts: {name, filename, headers, data}."""
    boundary = None
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.lower() == "boundary":
            boundary = value.strip().strip('"')
    if not content_type.lower().startswith("multipart/form-data") or not boundary:
        raise HTTPError(400, "expected a multipart/form-data body with a boundary")
    delimiter = b"--" + boundary.encode("latin-1")
    parts = []
    segments = body.split(delimiter)
    if len(segments) < 3:
        raise HTTPError(400, "multipart body has no parts")
    for segment in segments[1:]:
        if segment.startswith(b"--"):
            break
        if segment.startswith(b"\r\n"):
            segment = segment[2:]
        head, sep, data = segment.partition(b"\r\n\r\n")
        if not sep:
            raise HTTPError(400, "multipart part has no header end")
        if data.endswith(b"\r\n"):
            data = data[:-2]
        headers: Dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            if key:
                headers[key.strip().lower()] = value.strip()
        disposition = _disposition(headers.get("content-disposition", ""))
        parts.append(
            {
                "name": disposition.get("name"),
                "filename": disposition.get("filename"),
                "headers": headers,
                "data": data,
            }
        )
    return parts


def _disposition(value: str) -> Dict[str, str]:
    out = {}
    for param in value.split(";")[1:]:
        key, _, val = param.strip().partition("=")
        val = val.strip()
        if len(val) >= 2 and val[0] == val[-1] == '"':
            val = val[1:-1].replace('\\"', '"')
        out[key.strip().lower()] = val
    return out
