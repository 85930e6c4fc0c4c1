"""The request-size guard refuses over-long bodies before the application reads them."""

import asyncio
import json

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
