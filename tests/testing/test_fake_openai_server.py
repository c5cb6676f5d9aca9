"""The shipped FakeOpenAIServer, driven with plain httpx so its behaviour is pinned independently."""

from __future__ import annotations

import httpx
import pytest

from cns.testing.fake_openai_server import FakeOpenAIServer, FakeReply, RecordedRequest

BODY = {"model": "m", "messages": [{"role": "user", "content": "hello world"}]}


def _post(http: httpx.Client, server: FakeOpenAIServer, body: object = BODY) -> httpx.Response:
    return http.post(f"{server.base_url}/chat/completions", json=body, headers={"Authorization": "Bearer k"})


def test_scripted_replies_in_order_and_requests_recorded() -> None:
    with FakeOpenAIServer() as server, httpx.Client() as http:
        server.push("first", FakeReply(content="second", prompt_tokens=7, completion_tokens=2))
        one, two = _post(http, server).json(), _post(http, server).json()
        assert server.pending == 0
        requests = server.requests
    assert one["choices"][0]["message"] == {"role": "assistant", "content": "first"}
    assert one["usage"]["prompt_tokens"] > 0
    assert two["usage"] == {"prompt_tokens": 7, "completion_tokens": 2}
    assert two["model"] == "m"
    assert [r.path for r in requests] == ["/v1/chat/completions"] * 2
    assert requests[0].headers["authorization"] == "Bearer k"
    assert requests[0].json == BODY
    assert requests[0].messages == BODY["messages"]
    assert requests[0].received_at <= requests[1].received_at


def test_error_replies_carry_status_headers_and_openai_error_body() -> None:
    with FakeOpenAIServer() as server, httpx.Client() as http:
        server.push(FakeReply.error(429, "slow down", retry_after=2), FakeReply(body="{not json", status=200))
        limited = _post(http, server)
        malformed = _post(http, server)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "2"
    assert limited.json() == {"error": {"message": "slow down", "type": "fake_error"}}
    assert malformed.text == "{not json"


def test_responder_default_and_exhausted_script() -> None:
    def echo(request: RecordedRequest) -> str:
        return "echo: " + str(request.messages[-1]["content"])

    with FakeOpenAIServer(responder=echo) as server, httpx.Client() as http:
        server.push("scripted first")
        assert _post(http, server).json()["choices"][0]["message"]["content"] == "scripted first"
        assert _post(http, server).json()["choices"][0]["message"]["content"] == "echo: hello world"
        broken = _post(http, server, body={"no": "messages"})
        assert broken.status_code == 400
        assert "responder raised IndexError" in broken.json()["error"]["message"]
    with FakeOpenAIServer(default="always") as server, httpx.Client() as http:
        assert _post(http, server).json()["choices"][0]["message"]["content"] == "always"
    with FakeOpenAIServer() as server, httpx.Client() as http:
        empty = _post(http, server)
        assert empty.status_code == 400
        assert "no scripted reply left" in empty.json()["error"]["message"]


def test_slow_and_dropped_replies() -> None:
    with FakeOpenAIServer() as server, httpx.Client(timeout=0.1) as http:
        server.push(FakeReply(content="late", delay=2.0), FakeReply(disconnect=True))
        with pytest.raises(httpx.ReadTimeout):
            _post(http, server)
        with pytest.raises(httpx.RemoteProtocolError):
            _post(http, server)
    assert len(server.requests) == 2  # close() did not wait for the 2 s delay


def test_models_route_and_lifecycle() -> None:
    server = FakeOpenAIServer()
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.base_url
    with server, httpx.Client() as http:
        assert http.get(f"{server.base_url}/models").json()["data"][0]["id"] == "fake-model"
        assert http.get(f"{server.base_url}/unknown").status_code == 404
