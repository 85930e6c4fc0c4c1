"""The request-size guard refuses over-long bodies before the application reads them."""

import asyncio
import json

import pytest

from uploads.asgi import RequestBodyLimitMiddleware


def _call(*, headers: list, chunks: list[bytes]) -> tuple[list, list]:
    sent, read = [], []
    messages = [{"type": "http.request", "body": c, "more_body": True} for c in chunks]
    messages[-1]["more_body"] = False

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    async def app(scope, receive, send):
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # Django gives up on a disconnected client without answering
            read.append(message["body"])
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    scope = {"type": "http", "headers": headers}
    asyncio.run(RequestBodyLimitMiddleware(app, max_bytes=100)(scope, receive, send))
    return sent, read


def _length(n: int) -> list:
    return [(b"content-length", str(n).encode())]


def test_a_declared_length_over_the_limit_is_refused_unread():
    sent, read = _call(headers=_length(101), chunks=[b"x" * 101])
    assert read == []
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["error"]["code"] == "request_too_large"


def test_a_chunked_body_is_cut_off_once_it_passes_the_limit():
    sent, read = _call(headers=[], chunks=[b"x" * 60, b"x" * 60, b"x" * 60])
    assert read == [b"x" * 60]  # the second chunk is never handed over
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [413]


def test_bodies_within_the_limit_pass():
    sent, read = _call(headers=_length(100), chunks=[b"x" * 50, b"x" * 50])
    assert b"".join(read) == b"x" * 100
    assert sent[0]["status"] == 201


MIB = 1024 * 1024


def _drive(app, path: str, *, total: int, declare: bool, chunk: int = 64 * 1024):
    """Sends `total` bytes to `path` through the ASGI app; returns (status, bytes pulled)."""
    pulled = {"bytes": 0}
    sent = []
    remaining = {"n": total}

    async def receive():
        if remaining["n"] <= 0:
            return {"type": "http.disconnect"}
        size = min(chunk, remaining["n"])
        remaining["n"] -= size
        pulled["bytes"] += size
        return {"type": "http.request", "body": b"{" * size, "more_body": remaining["n"] > 0}

    async def send(message):
        sent.append(message)

    headers = [(b"host", b"alpha.localhost"), (b"content-type", b"application/json")]
    if declare:
        headers.append((b"content-length", str(total).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, pulled["bytes"], sent


@pytest.mark.parametrize("declare", [True, False], ids=["content-length", "streamed"])
@pytest.mark.parametrize(
    "path", ["/api/v1/auth/login/", "/api/v1/tenants/", "/api/v1/catalog/products/", "/admin/"]
)
def test_the_served_app_refuses_a_few_mib_on_json_routes_before_reading_them(path, declare):
    from config.asgi import application

    status, pulled, sent = _drive(application, path, total=4 * MIB, declare=declare)
    assert status == 413
    body = json.loads(b"".join(m.get("body", b"") for m in sent if m["type"].endswith("body")))
    assert body["error"]["code"] == "request_too_large"
    # Declared: nothing read. Streamed: cut off at the first chunk past the 1 MiB limit.
    assert pulled == (0 if declare else MIB + 64 * 1024)


def test_only_the_upload_route_takes_large_bodies(settings):
    settings.REQUEST_MAX_BODY_SIZE = MIB
    settings.UPLOADS_MAX_REQUEST_SIZE = 8 * MIB
    got = {}

    async def app(scope, receive, send):
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            size += len(message["body"])
            if not message.get("more_body"):
                break
        got[scope["path"]] = size
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    guarded = RequestBodyLimitMiddleware(app)
    for declare in (True, False):
        assert _drive(guarded, "/api/v1/files/", total=4 * MIB, declare=declare)[0] == 201
        assert got.pop("/api/v1/files/") == 4 * MIB
        assert _drive(guarded, "/api/v1/files/", total=9 * MIB, declare=declare)[0] == 413
        assert _drive(guarded, "/api/v1/files/x/", total=2 * MIB, declare=declare)[0] == 413
        assert _drive(guarded, "/api/v1/auth/login/", total=2 * MIB, declare=declare)[0] == 413
    assert got == {}
