import asyncio

import pytest

from connectors.guards import MAX_MESSAGE_CHARS
from connectors.rest import RestInput
from tests.connectors.conftest import serve


def echo(received):
    async def on_new_message(message):
        received.append(message)
        await message.output_channel.send_text_message(message.sender_id, f"echo: {message.text}")

    return on_new_message


async def test_health_and_a_normal_message():
    received = []
    async with serve(RestInput(), echo(received)) as (base, http):
        async with http.get(f"{base}/") as resp:
            assert resp.status == 200 and (await resp.json()) == {"status": "ok"}
        payload = {"sender": "u1", "message": "làm hộ chiếu", "metadata": {"page": "ward"}}
        async with http.post(f"{base}/webhook", json=payload) as resp:
            assert resp.status == 200
            assert await resp.json() == [{"recipient_id": "u1", "text": "echo: làm hộ chiếu"}]
    assert received[0].metadata == {"page": "ward"}
    assert received[0].input_channel == "rest"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "JSON"),
        (b"[1, 2]", "object"),
        (b'{"message": "hi"}', "sender"),
        (b'{"sender": "", "message": "hi"}', "sender"),
        (b'{"sender": "u", "message": 42}', "message"),
        (b'{"sender": "u", "message": "hi", "metadata": "x"}', "metadata"),
    ],
)
async def test_malformed_requests_get_a_400_with_the_reason(body, reason):
    received = []
    async with serve(RestInput(), echo(received)) as (base, http):
        headers = {"Content-Type": "application/json"}
        async with http.post(f"{base}/webhook", data=body, headers=headers) as resp:
            assert resp.status == 400
            assert reason in (await resp.json())["error"]
    assert received == []


async def test_empty_message_gets_a_prompt_without_bothering_rasa():
    received = []
    async with serve(RestInput(), echo(received)) as (base, http):
        payload = {"sender": "u", "message": "  "}
        async with http.post(f"{base}/webhook", json=payload) as resp:
            reply = await resp.json()
    assert received == [] and "hộ chiếu" in reply[0]["text"]


async def test_oversized_message_is_cut_and_the_citizen_told():
    received = []
    async with serve(RestInput(), echo(received)) as (base, http):
        payload = {"sender": "u", "message": "How do I renew a passport? " * 500}
        async with http.post(f"{base}/webhook", json=payload) as resp:
            reply = await resp.json()
    assert len(received[0].text) == MAX_MESSAGE_CHARS
    assert f"first {MAX_MESSAGE_CHARS} characters" in reply[0]["text"]
    assert reply[1]["text"].startswith("echo: ")


@pytest.mark.parametrize("failure", ["raises", "silent", "cancelled"])
async def test_no_reply_becomes_a_polite_try_again(failure):
    async def broken(message):
        if failure == "raises":
            raise RuntimeError("action server down")
        if failure == "cancelled":
            raise asyncio.CancelledError

    async with serve(RestInput(), broken) as (base, http):
        payload = {"sender": "u", "message": "What does a passport cost?"}
        async with http.post(f"{base}/webhook", json=payload) as resp:
            assert resp.status == 200
            reply = await resp.json()
    assert len(reply) == 1 and "try again" in reply[0]["text"]


# --- issue 13: limits, clean input, personal sender ids, CORS ------------------------------


@pytest.fixture
def _pseudonym_key(monkeypatch):
    monkeypatch.setenv("MOTCUA_PSEUDONYM_KEY", "test-key")


async def test_deep_or_huge_metadata_gets_a_reason_and_never_reaches_rasa():
    received = []
    deep = '{"sender": "u", "message": "hi", "metadata": ' + '{"a": ' * 900 + "1" + "}" * 901
    huge = {"sender": "u", "message": "hi", "metadata": {"blob": "x" * 2_000_000}}
    big = {"sender": "u", "message": "hi", "metadata": {f"k{i}": "v" * 200 for i in range(40)}}
    async with serve(RestInput(), echo(received)) as (base, http):
        headers = {"Content-Type": "application/json"}
        async with http.post(f"{base}/webhook", data=deep.encode(), headers=headers) as resp:
            assert resp.status == 400 and "deeper" in (await resp.json())["error"]
        async with http.post(f"{base}/webhook", json=huge) as resp:
            assert resp.status == 413 and "64 KB" in (await resp.json())["error"]
        async with http.post(f"{base}/webhook", json=big) as resp:
            assert resp.status == 400 and "'metadata' is larger" in (await resp.json())["error"]
        async with http.post(f"{base}/webhook", json={"sender": "u", "message": "ok"}) as resp:
            assert resp.status == 200  # the sender is not left on "busy"
    assert [m.text for m in received] == ["ok"]


async def test_surrogates_and_controls_are_removed_before_rasa(_pseudonym_key):
    received = []
    raw = (
        b'{"sender": "u\\ud800", "message": "h\\u00f4\\u0000 \\udc00chi\\u001b",'
        b' "metadata": {"page": "\\ud800w"}}'
    )
    async with serve(RestInput(), echo(received)) as (base, http):
        headers = {"Content-Type": "application/json"}
        async with http.post(f"{base}/webhook", data=raw, headers=headers) as resp:
            assert resp.status == 200
    message = received[0]
    assert (message.sender_id, message.text, message.metadata) == ("u", "hô chi", {"page": "w"})


async def test_only_known_metadata_keys_are_kept_and_masked():
    received = []
    metadata = {"page": "ward", "phone": "0912345678", "url": "https://a.vn/?sdt=0912345678"}
    async with serve(RestInput(), echo(received)) as (base, http):
        payload = {"sender": "u1", "message": "hi", "metadata": metadata}
        async with http.post(f"{base}/webhook", json=payload) as resp:
            assert resp.status == 200
    assert received[0].metadata == {"page": "ward", "url": "https://a.vn/?sdt=[phone]"}


async def test_a_phone_number_as_sender_id_never_reaches_rasa(_pseudonym_key):
    received = []
    async with serve(RestInput(), echo(received)) as (base, http):
        for _ in range(2):
            payload = {"sender": "0912 345 678", "message": "hồ sơ của tôi"}
            async with http.post(f"{base}/webhook", json=payload) as resp:
                reply = await resp.json()
    first, second = (m.sender_id for m in received)
    assert first == second and first.startswith("p-") and "0912" not in first
    assert reply[0]["recipient_id"] == first


async def test_cors_follows_the_widget_allow_list_even_under_rasas_global_cors():
    received = []
    channel = RestInput.from_credentials({"allowed_origins": "https://*.hanoi.gov.vn"})
    body = {"sender": "s1", "message": "đăng ký khai sinh"}
    async with serve(channel, echo(received), cors="*") as (base, http):
        evil = {"Origin": "https://evil.example"}
        async with http.post(f"{base}/webhook", json=body, headers=evil) as resp:
            assert resp.status == 403
            assert "Access-Control-Allow-Origin" not in resp.headers
            assert "Access-Control-Allow-Credentials" not in resp.headers
        ward = {"Origin": "https://phuong.hanoi.gov.vn"}
        async with http.post(f"{base}/webhook", json=body, headers=ward) as resp:
            assert resp.status == 200
            assert resp.headers.getall("Access-Control-Allow-Origin") == [ward["Origin"]]
            assert "Access-Control-Allow-Credentials" not in resp.headers
        async with http.post(f"{base}/webhook", json=body) as resp:  # curl, a server
            assert resp.status == 200 and "Access-Control-Allow-Origin" not in resp.headers
    assert len(received) == 2


def test_the_allow_list_defaults_to_the_widgets_setting(monkeypatch):
    monkeypatch.setenv("MOTCUA_WIDGET_ORIGINS", "https://portal.hanoi.gov.vn")
    (pattern,) = RestInput().policy.patterns
    assert pattern.matches("https://portal.hanoi.gov.vn")
    monkeypatch.delenv("MOTCUA_WIDGET_ORIGINS")
    assert not any(p.matches("https://evil.example") for p in RestInput().policy.patterns)


async def test_one_address_meets_its_limit_whatever_sender_ids_it_invents(monkeypatch):
    from connectors import relay

    monkeypatch.setenv("MOTCUA_CLIENT_MESSAGES_PER_MINUTE", "5")
    relay._client_limit.cache_clear()
    received = []
    try:
        async with serve(RestInput(), echo(received)) as (base, http):

            async def send(sender: str, address: str | None) -> int:
                headers = {"X-Forwarded-For": address} if address else {}
                body = {"sender": sender, "message": "hồ sơ 000.00.20.H26-251103-0042"}
                async with http.post(f"{base}/webhook", json=body, headers=headers) as resp:
                    if resp.status == 429:
                        assert int(resp.headers["Retry-After"]) >= 1
                        assert "too many" in (await resp.json())["error"]
                    return resp.status

            statuses = [await send(f"bot-{i}", "203.0.113.9") for i in range(7)]
            assert statuses == [200] * 5 + [429] * 2
            assert await send("someone", "198.51.100.4") == 200  # another address
            # a client-written hop left of an untrusted one changes nothing
            assert await send("bot-x", "10.9.9.9, 203.0.113.9") == 429
            # this machine itself (replays, benchmarks) is not limited
            assert [await send(f"local-{i}", None) for i in range(8)] == [200] * 8
    finally:
        relay._client_limit.cache_clear()
    assert len(received) == 5 + 1 + 8


def test_the_address_limit_slides_and_forgets_the_quietest():
    from infra.clients import AddressLimit

    limit = AddressLimit(per_minute=2, max_addresses=2)
    assert limit.retry_after("a", now=0) == 0 and limit.retry_after("a", now=1) == 0
    assert limit.retry_after("a", now=2) == pytest.approx(58)
    assert limit.retry_after("a", now=61) == 0  # the first one left the window
    limit.retry_after("b", now=62)
    limit.retry_after("c", now=63)
    assert set(limit._seen) == {"b", "c"}
