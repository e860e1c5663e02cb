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
