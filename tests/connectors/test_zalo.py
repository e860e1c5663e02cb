import asyncio
import hashlib
import json
import logging
import random
import time
from contextlib import asynccontextmanager

import pytest

from connectors.guards import MAX_MESSAGE_CHARS, channel_text
from connectors.zalo import (
    JsonTokenStore,
    StoredTokens,
    TokenStore,
    ZaloInput,
    credentials_from_env,
    numbered_text,
    option_number,
    signature,
    split_text,
    text_only_reply,
    verify,
)
from tests.auxil.fake_zalo import FakeZalo, signed_request
from tests.connectors.conftest import serve

APP_ID = "4318201926419930011"
OA_SECRET = "oa-secret-key"
APP_SECRET = "app-secret"
USER = "8427459843975934875"
OA = "579745863508352884"
CHOICES = [
    {
        "title": "1. Cấp hộ chiếu phổ thông",
        "payload": '/choose_procedure{"procedure_code":"1.001193"}',
    },
    {
        "title": "2. Cấp lại hộ chiếu bị mất",
        "payload": '/choose_procedure{"procedure_code":"2.002070"}',
    },
]


def text_event(text, msg_id, sender=USER, event_name="user_send_text", **extra):
    return {
        "event_name": event_name,
        "app_id": APP_ID,
        "sender": {"id": sender},
        "recipient": {"id": OA},
        "message": {"text": text, "msg_id": msg_id},
        "timestamp": "1699003881354",
        "user_id_by_app": "5538107962356925116",
        **extra,
    }


class Bot:
    """A stand-in for Rasa: records what it is fed and answers through the output channel."""

    def __init__(self, delay=0.0):
        self.received = []
        self.delay = delay

    async def __call__(self, message):
        self.received.append(message)
        await asyncio.sleep(self.delay)
        out, who = message.output_channel, message.sender_id
        if message.text == "hộ chiếu":
            reply = {"text": "Anh/chị hỏi thủ tục nào?", "buttons": [dict(b) for b in CHOICES]}
            await out.send_response(who, reply)
        elif message.text == "dài":
            lines = [f"Dòng {i}: " + "giấy tờ cần nộp " * 8 for i in range(60)]
            await out.send_text_message(who, "\n".join(lines))
        elif message.text == "im lặng":
            return
        elif message.text == "lỗi":
            raise RuntimeError("action server down")
        else:
            await out.send_text_message(who, f"echo: {message.text}")

    @property
    def texts(self):
        return [m.text for m in self.received]


class Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)

    def text(self, level=logging.WARNING):
        return "\n".join(r.getMessage() for r in self.records if r.levelno >= level)


@pytest.fixture
def zalo_log():
    logger = logging.getLogger("connectors.zalo")
    handler, old_level = Records(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(old_level)


@pytest.fixture
async def fake():
    async with FakeZalo(app_id=APP_ID, app_secret=APP_SECRET) as server:
        yield server


@pytest.fixture
def store_url(tmp_path):
    return f"sqlite:///{tmp_path / 'motcua.db'}"


def make_channel(fake, store_url, **overrides):
    credentials = {
        "app_id": APP_ID,
        "app_secret": APP_SECRET,
        "oa_secret_key": OA_SECRET,
        "access_token": "access-0",
        "refresh_token": "refresh-0",
        "api_base_url": fake.url,
        "oauth_base_url": fake.url,
        "token_store": store_url,
        **overrides,
    }
    return ZaloInput.from_credentials(credentials)


@asynccontextmanager
async def running(channel, bot):
    async with serve(channel, bot) as (base, http):

        async def post(payload, *, secret=OA_SECRET, raw=None, headers=None):
            body, signed = signed_request(payload, APP_ID, secret) if raw is None else (raw, {})
            async with http.post(f"{base}/webhook", data=body, headers=headers or signed) as resp:
                return resp.status, await resp.json()

        try:
            yield post
        finally:
            await channel.drain()
    await channel.aclose()


# --- protocol functions -------------------------------------------------------------------


def test_signature_is_plain_sha256_of_app_id_body_timestamp_and_secret():
    raw = b'{"app_id":"1","timestamp":"2"}'
    expected = hashlib.sha256(b"1" + raw + b"2" + b"key").hexdigest()
    assert signature("1", raw, "2", "key") == expected


def test_verify_accepts_zalo_signatures_and_refuses_the_rest():
    raw, headers = signed_request(text_event("xin chào", "m1"), APP_ID, OA_SECRET)
    assert verify(headers, raw, OA_SECRET)
    lower = {k.lower(): v for k, v in headers.items()}
    assert verify(lower, raw, OA_SECRET)
    assert not verify(headers, raw, "another-secret")
    assert not verify(headers, raw.replace("xin chào".encode(), b"tampered"), OA_SECRET)
    assert not verify({}, raw, OA_SECRET)
    mac = headers["X-ZEvent-Signature"]
    assert not verify({"X-ZEvent-Signature": mac.removeprefix("mac=")}, raw, OA_SECRET)
    assert not verify(headers, b"not json", OA_SECRET)
    assert not verify(headers, raw, "")


def test_verify_keeps_64_bit_ids_exact():
    # an app id Zalo sends as a bare number must not go through a float
    raw = b'{"app_id": 4318201926419930011, "timestamp": 1699003881354, "event_name": "x"}'
    mac = signature("4318201926419930011", raw, "1699003881354", OA_SECRET)
    assert verify({"X-ZEvent-Signature": f"mac={mac}"}, raw, OA_SECRET)


@pytest.mark.parametrize(
    ("text", "number"),
    [("2", 2), (" 1 ", 1), ("số 2", 2), ("So 3", 3), ("2.", 2), ("#1", 1), ("option 2", 2)],
)
def test_option_number_reads_bare_numbers(text, number):
    assert option_number(text) == number


@pytest.mark.parametrize("text", ["", "2 người", "hồ sơ 2", "12345", "thủ tục số hai", None])
def test_option_number_ignores_sentences(text):
    assert option_number(text) is None


def test_numbered_text_renumbers_titles_and_keeps_payloads():
    text, payloads = numbered_text("Chọn thủ tục:", [*CHOICES, {"title": "Khác", "payload": "/x"}])
    assert text.splitlines() == [
        "Chọn thủ tục:",
        "1. Cấp hộ chiếu phổ thông",
        "2. Cấp lại hộ chiếu bị mất",
        "3. Khác",
    ]
    assert payloads == [CHOICES[0]["payload"], CHOICES[1]["payload"], "/x"]


def test_split_text_cuts_on_lines_and_keeps_everything():
    lines = [f"line {i} " + "x" * 90 for i in range(100)]
    chunks = split_text("\n".join(lines), limit=2000)
    assert len(chunks) > 1 and all(len(c) <= 2000 for c in chunks)
    assert "\n".join(chunks).splitlines() == lines
    one_long_line = " ".join(["word"] * 1000)
    chunks = split_text(one_long_line, limit=500)
    assert all(len(c) <= 500 for c in chunks)
    assert " ".join(chunks).split() == one_long_line.split()
    assert split_text("a" * 1200, limit=500) == ["a" * 500, "a" * 500, "a" * 200]
    assert split_text("  ") == []


def test_credentials_from_env():
    assert credentials_from_env({}) is None
    env = {
        "MOTCUA_ZALO_APP_ID": APP_ID,
        "MOTCUA_ZALO_APP_SECRET": "s",
        "MOTCUA_ZALO_OA_SECRET": "o",
        "MOTCUA_ZALO_ACCESS_TOKEN": "a",
        "MOTCUA_ZALO_REFRESH_TOKEN": "r",
        "MOTCUA_ZALO_API_URL": "http://127.0.0.1:1",
        "MOTCUA_DATABASE_URL": "postgresql://db/motcua",
    }
    assert credentials_from_env(env) == {
        "app_id": APP_ID,
        "app_secret": "s",
        "oa_secret_key": "o",
        "access_token": "a",
        "refresh_token": "r",
        "api_base_url": "http://127.0.0.1:1",
        "token_store": "postgresql://db/motcua",
    }


def test_from_credentials_names_the_missing_key(tmp_path):
    with pytest.raises(ValueError, match=r"oa_secret_key \(MOTCUA_ZALO_OA_SECRET\)"):
        ZaloInput.from_credentials(
            {
                "app_id": APP_ID,
                "app_secret": "s",
                "access_token": "a",
                "refresh_token": "r",
                "token_store": str(tmp_path / "t.json"),
            }
        )
    with pytest.raises(ValueError, match="app_id"):
        ZaloInput.from_credentials(None)


@pytest.mark.parametrize("kind", ["sql", "json"])
def test_token_stores_survive_a_restart(tmp_path, kind):
    location = f"sqlite:///{tmp_path / 'db.sqlite'}" if kind == "sql" else str(tmp_path / "t.json")
    store = TokenStore(location) if kind == "sql" else JsonTokenStore(location)
    assert store.load(APP_ID) is None
    store.save(APP_ID, StoredTokens("a1", "r1", "r0"))
    store.save(APP_ID, StoredTokens("a2", "r2", "r0"))
    store.dispose()
    again = TokenStore(location) if kind == "sql" else JsonTokenStore(location)
    stored = again.load(APP_ID)
    assert (stored.access_token, stored.refresh_token, stored.initial_refresh_token) == (
        "a2",
        "r2",
        "r0",
    )
    assert again.load("another-app") is None
    if kind == "json":
        assert [p.name for p in tmp_path.iterdir()] == ["t.json"]  # no temporary file left


# --- the webhook on a real server ---------------------------------------------------------


async def test_health_and_a_text_message_reaches_rasa_and_the_reply_reaches_zalo(fake, store_url):
    bot, channel = Bot(), make_channel(fake, store_url)
    async with serve(channel, bot) as (base, http):
        async with http.get(f"{base}/") as resp:
            assert resp.status == 200 and await resp.json() == {"status": "ok"}
        raw, headers = signed_request(
            text_event("làm hộ chiếu mất bao lâu", "m1"), APP_ID, OA_SECRET
        )
        async with http.post(f"{base}/webhook", data=raw, headers=headers) as resp:
            assert resp.status == 200
        await channel.drain()
    await channel.aclose()
    assert fake.texts == ["echo: làm hộ chiếu mất bao lâu"]
    assert fake.sent[0].recipient == {"user_id": USER} and fake.sent[0].access_token == "access-0"
    message = bot.received[0]
    assert message.sender_id == USER and message.input_channel == "zalo"
    assert message.message_id == "m1"
    assert message.metadata["zalo"]["user_id_by_app"] == "5538107962356925116"


async def test_buttons_become_numbered_lines_and_a_digit_feeds_the_payload(fake, store_url):
    bot = Bot()
    async with running(make_channel(fake, store_url), bot) as post:
        assert (await post(text_event("hộ chiếu", "m1")))[0] == 200
        await fake.wait_for_messages(1)
        assert fake.texts[0] == (
            "Anh/chị hỏi thủ tục nào?\n1. Cấp hộ chiếu phổ thông\n2. Cấp lại hộ chiếu bị mất"
        )
        await post(text_event("số 2", "m2"))
        await fake.wait_for_messages(2)
        # the options answer only the next message: a later "2" is just text
        await post(text_event("2", "m3"))
        await fake.wait_for_messages(3)
    assert bot.texts == ["hộ chiếu", CHOICES[1]["payload"], "2"]
    assert bot.received[1].metadata["zalo"]["option"] == 2


async def test_a_digit_out_of_range_or_from_another_user_is_plain_text(fake, store_url):
    bot = Bot()
    async with running(make_channel(fake, store_url), bot) as post:
        await post(text_event("hộ chiếu", "m1"))
        await fake.wait_for_messages(1)
        await post(text_event("1", "m2", sender="1111111111111111111"))
        await fake.wait_for_messages(2)
        await post(text_event("5", "m3"))
        await fake.wait_for_messages(3)
    assert bot.texts == ["hộ chiếu", "1", "5"]


async def test_a_retried_msg_id_is_processed_once(fake, store_url):
    bot = Bot()
    async with running(make_channel(fake, store_url), bot) as post:
        event = text_event("lệ phí làm căn cước", "dup-1")
        statuses = [(await post(event))[0] for _ in range(3)]
    assert statuses == [200, 200, 200]
    assert bot.texts == ["lệ phí làm căn cước"] and len(fake.sent) == 1


@pytest.mark.parametrize(
    ("mutate", "status"),
    [
        (lambda raw, headers: (raw, {"Content-Type": "application/json"}), 401),
        (lambda raw, headers: (raw, {**headers, "X-ZEvent-Signature": "mac=" + "0" * 64}), 403),
        (lambda raw, headers: (raw, {**headers, "X-ZEvent-Signature": "sha256=abc"}), 403),
        (lambda raw, headers: (raw.replace(b"m1", b"m2"), headers), 403),
    ],
)
async def test_forged_or_missing_signatures_are_refused(fake, store_url, mutate, status):
    bot = Bot()
    async with running(make_channel(fake, store_url), bot) as post:
        raw, headers = signed_request(text_event("xin chào", "m1"), APP_ID, OA_SECRET)
        raw, headers = mutate(raw, headers)
        got, _ = await post({}, raw=raw, headers=headers)
    assert got == status and bot.received == [] and fake.send_attempts == []


async def test_a_signature_made_with_another_secret_or_for_another_app_is_refused(fake, store_url):
    bot = Bot()
    async with running(make_channel(fake, store_url), bot) as post:
        assert (await post(text_event("xin chào", "m1"), secret="wrong"))[0] == 403
        other = signed_request(text_event("xin chào", "m2", app_id="999"), "999", OA_SECRET)
        assert (await post({}, raw=other[0], headers=other[1]))[0] == 403
    assert bot.received == [] and fake.send_attempts == []


@pytest.mark.parametrize("raw", [b"{not json", b"", b"[1, 2]", b'"text"', b"\xff\xfe"])
async def test_malformed_bodies_get_a_400(fake, store_url, raw):
    bot = Bot()
    async with running(make_channel(fake, store_url), bot) as post:
        status, body = await post({}, raw=raw, headers={"X-ZEvent-Signature": "mac=00"})
    assert status == 400 and "JSON" in body["error"]
    assert bot.received == [] and fake.send_attempts == []


@pytest.mark.parametrize(
    "event_name",
    [
        "oa_send_text",
        "oa_send_image",
        "user_received_message",
        "user_seen_message",
        "unfollow",
        "shop_has_order",
        "brand_new_event",
    ],
)
async def test_echoes_receipts_and_unknown_events_are_acknowledged_and_ignored(
    fake, store_url, event_name
):
    bot = Bot()
    async with running(make_channel(fake, store_url), bot) as post:
        status, _ = await post(text_event("xin chào", f"e-{event_name}", event_name=event_name))
    assert status == 200 and bot.received == [] and fake.send_attempts == []


async def test_follow_greets(fake, store_url):
    bot = Bot()
    follow = {
        "event_name": "follow",
        "app_id": APP_ID,
        "oa_id": OA,
        "follower": {"id": USER},
        "source": "oa_profile",
        "timestamp": "1699003881354",
        "user_id_by_app": "5538107962356925116",
    }
    async with running(make_channel(fake, store_url), bot) as post:
        assert (await post(follow))[0] == 200
        assert (await post(follow))[0] == 200  # Zalo's retry of the same follow
    assert bot.texts == ["/greet"]
    assert fake.texts == ["echo: /greet"] and fake.sent[0].recipient == {"user_id": USER}


@pytest.mark.parametrize(
    ("event", "language"),
    [
        (
            {
                "event_name": "user_send_sticker",
                "message": {
                    "msg_id": "s1",
                    "attachments": [
                        {
                            "type": "sticker",
                            "payload": {"id": "abc", "url": "https://zalo.me/s.png"},
                        }
                    ],
                },
            },
            "vi",
        ),
        (
            {
                "event_name": "user_send_image",
                "message": {
                    "msg_id": "i1",
                    "text": "what is this form",
                    "attachments": [{"type": "image", "payload": {"url": "https://x/y.jpg"}}],
                },
            },
            "en",
        ),
        (
            {
                "event_name": "user_send_location",
                "message": {
                    "msg_id": "l1",
                    "attachments": [
                        {
                            "type": "location",
                            "payload": {"coordinates": {"latitude": "21.0", "longitude": "105.8"}},
                        }
                    ],
                },
            },
            "vi",
        ),
    ],
)
async def test_media_get_a_polite_text_only_reply(fake, store_url, event, language):
    bot = Bot()
    async with running(make_channel(fake, store_url), bot) as post:
        await post({**event, "sender": {"id": USER}, "recipient": {"id": OA}})
    assert bot.received == []
    assert fake.texts == [text_only_reply(language)]


async def test_long_replies_are_split_on_lines(fake, store_url):
    bot = Bot()
    async with running(make_channel(fake, store_url), bot) as post:
        await post(text_event("dài", "m1"))
    assert len(fake.sent) >= 3 and all(len(t) <= 2000 for t in fake.texts)
    lines = "\n".join(fake.texts).splitlines()
    assert len(lines) == 60 and lines[0].startswith("Dòng 0:") and lines[-1].startswith("Dòng 59:")


async def test_an_oversized_message_is_cut_and_the_citizen_told(fake, store_url):
    bot = Bot()
    async with running(make_channel(fake, store_url), bot) as post:
        await post(text_event("thủtục" * 400, "m1"))
    assert len(bot.received[0].text) == MAX_MESSAGE_CHARS
    assert fake.texts[0] == channel_text("too_long", "vi", n=MAX_MESSAGE_CHARS)
    assert fake.texts[1].startswith("echo: thủtục")


async def test_an_empty_message_gets_a_prompt_without_bothering_rasa(fake, store_url):
    bot = Bot()
    async with running(make_channel(fake, store_url), bot) as post:
        await post(text_event("   ", "m1"))
    assert bot.received == [] and fake.texts == [channel_text("empty", "vi")]


@pytest.mark.parametrize(("text", "language"), [("im lặng", "vi"), ("lỗi", "vi")])
async def test_no_reply_from_rasa_gets_the_busy_message(fake, store_url, text, language):
    bot = Bot()
    async with running(make_channel(fake, store_url), bot) as post:
        await post(text_event(text, "m1"))
    assert fake.texts == [channel_text("busy", language)]


async def test_anonymous_users_are_answered_in_their_conversation(fake, store_url):
    bot = Bot()
    event = text_event(
        "hello, passport fee?", "a1", sender="anon-7f3a", event_name="anonymous_send_text"
    )
    event["message"]["conversation_id"] = "conv-42"
    async with running(make_channel(fake, store_url), bot) as post:
        await post(event)
    assert bot.texts == ["hello, passport fee?"]
    assert fake.sent[0].recipient == {"anonymous_id": "anon-7f3a", "conversation_id": "conv-42"}


async def test_the_webhook_answers_at_once_while_rasa_is_slow(fake, store_url):
    bot, channel = Bot(delay=3.0), make_channel(fake, store_url)
    async with running(channel, bot) as post:
        started = time.monotonic()
        status, _ = await post(text_event("làm giấy khai sinh", "m1"))
        elapsed = time.monotonic() - started
        assert status == 200 and elapsed < 1.0
        assert fake.sent == []
        await channel.drain()
        assert fake.texts == ["echo: làm giấy khai sinh"]


# --- tokens -------------------------------------------------------------------------------


async def test_an_expired_token_is_refreshed_stored_and_the_send_retried_once(
    fake, store_url, zalo_log
):
    bot = Bot()
    fake.expire_token()
    async with running(make_channel(fake, store_url), bot) as post:
        await post(text_event("xin chào", "m1"))
        await fake.wait_for_messages(1)
        await post(text_event("cảm ơn", "m2"))
        await fake.wait_for_messages(2)
    assert fake.texts == ["echo: xin chào", "echo: cảm ơn"]
    assert [m.access_token for m in fake.sent] == ["access-1", "access-1"]
    assert len(fake.refresh_requests) == 1 and len(fake.send_attempts) == 3
    request = fake.refresh_requests[0]
    assert request["secret_key"] == APP_SECRET
    assert request["form"] == {
        "refresh_token": "refresh-0",
        "app_id": APP_ID,
        "grant_type": "refresh_token",
    }
    stored = TokenStore(store_url).load(APP_ID)
    assert (stored.access_token, stored.refresh_token) == ("access-1", "refresh-1")
    assert "refreshed" in zalo_log.text(logging.INFO)


async def test_after_a_restart_the_stored_tokens_win_over_the_configured_ones(fake, store_url):
    fake.expire_token()
    async with running(make_channel(fake, store_url), Bot()) as post:
        await post(text_event("một", "m1"))
    # "restart": a new channel with the same (now stale) credentials and store
    fake.expire_token()  # the access token expires again: only refresh-1 is valid now
    async with running(make_channel(fake, store_url), Bot()) as post:
        await post(text_event("hai", "m2"))
    assert fake.texts == ["echo: một", "echo: hai"]
    assert [r["form"]["refresh_token"] for r in fake.refresh_requests] == ["refresh-0", "refresh-1"]
    assert TokenStore(store_url).load(APP_ID).refresh_token == "refresh-2"


async def test_newly_issued_configured_tokens_replace_stale_stored_ones(fake, store_url):
    TokenStore(store_url).save(APP_ID, StoredTokens("old-access", "old-refresh", "older"))
    async with running(make_channel(fake, store_url), Bot()) as post:
        await post(text_event("xin chào", "m1"))
    assert fake.sent[0].access_token == "access-0" and fake.refresh_requests == []


async def test_concurrent_expiries_refresh_once(fake, store_url):
    fake.expire_token()
    async with running(make_channel(fake, store_url), Bot()) as post:
        await asyncio.gather(*(post(text_event(f"câu {i}", f"m{i}")) for i in range(5)))
    assert len(fake.sent) == 5 and len(fake.refresh_requests) == 1


async def test_a_failed_refresh_is_logged_and_the_worker_keeps_going(fake, store_url, zalo_log):
    fake.expire_token()
    fake.refresh_broken = True
    bot, channel = Bot(), make_channel(fake, store_url)
    async with running(channel, bot) as post:
        assert (await post(text_event("xin chào", "m1")))[0] == 200
        await channel.drain()
        assert fake.sent == []
        assert "token refresh refused" in zalo_log.text()
        fake.refresh_broken = False
        await post(text_event("thử lại", "m2"))
    assert fake.texts == ["echo: thử lại"]
    assert TokenStore(store_url).load(APP_ID).refresh_token == "refresh-1"


async def test_a_dead_oauth_server_is_logged_not_raised(fake, store_url, zalo_log):
    fake.expire_token()
    channel = make_channel(fake, store_url, oauth_base_url="http://127.0.0.1:9")
    async with running(channel, Bot()) as post:
        await post(text_event("xin chào", "m1"))
    assert fake.sent == [] and "token refresh failed" in zalo_log.text()
    assert not [r for r in zalo_log.records if r.exc_info]


async def test_a_timeout_is_retried_once(fake, store_url):
    fake.send_delays = [1.0]
    async with running(make_channel(fake, store_url, timeout=0.3), Bot()) as post:
        await post(text_event("xin chào", "m1"))
    assert len(fake.send_attempts) == 2 and fake.texts == ["echo: xin chào"]


async def test_two_timeouts_and_api_errors_are_logged_not_raised(fake, store_url, zalo_log):
    fake.send_delays = [1.0, 1.0]
    channel = make_channel(fake, store_url, timeout=0.3)
    async with running(channel, Bot()) as post:
        await post(text_event("xin chào", "m1"))
        await channel.drain()
        assert fake.sent == [] and "timed out" in zalo_log.text()
        await post(text_event("x" * 10, "m2", sender=""))  # no sender: nothing to answer
        await post(text_event("thử lại", "m3"))
    assert fake.texts == ["echo: thử lại"]
    assert not [r for r in zalo_log.records if r.exc_info]


async def test_other_api_errors_are_logged(fake, store_url, zalo_log):
    # the fake refuses texts over 2,000 characters (-201); the channel never sends one, so
    # provoke an API error through the API client directly
    channel = make_channel(fake, store_url)
    assert await channel.api.send_text({"user_id": USER}, "x" * 2001) is False
    await channel.aclose()
    assert "error -201" in zalo_log.text()


# --- fuzzing ------------------------------------------------------------------------------


def _junk(rng, depth=0):
    choices = [
        lambda: None,
        lambda: rng.randint(-(2**63), 2**63),
        lambda: rng.random(),
        lambda: rng.choice(["", " ", "1", "số 1", "hộ chiếu", "🙂" * 3, "\x00", "a" * 3000]),
        lambda: True,
    ]
    if depth < 2:
        choices += [
            lambda: [_junk(rng, depth + 1) for _ in range(rng.randint(0, 3))],
            lambda: {k: _junk(rng, depth + 1) for k in rng.sample(["id", "text", "msg_id"], 2)},
        ]
    return rng.choice(choices)()


async def test_fuzzed_events_never_break_the_webhook_or_the_worker(fake, store_url, zalo_log):
    rng = random.Random(20231103)
    names = [
        "user_send_text",
        "anonymous_send_text",
        "follow",
        "user_send_sticker",
        "oa_send_text",
        "user_send_image",
        42,
        None,
        "user_send_gif",
    ]
    bot, channel = Bot(), make_channel(fake, store_url)
    statuses = set()
    async with running(channel, bot) as post:
        for i in range(60):
            event = {
                "event_name": rng.choice(names),
                "sender": rng.choice([{"id": USER}, {"id": rng.randint(0, 2**64)}, _junk(rng)]),
                "follower": rng.choice([{"id": USER}, _junk(rng)]),
                "message": rng.choice(
                    [{"text": _junk(rng), "msg_id": f"f{i}"}, _junk(rng), {"msg_id": _junk(rng)}]
                ),
                "timestamp": rng.choice([str(1699003881354 + i), 1699003881354 + i]),
                "user_id_by_app": _junk(rng),
            }
            statuses.add((await post(event))[0])
        await channel.drain()
        await post(text_event("vẫn chạy", "after-fuzz"))
    assert statuses <= {200}
    assert "echo: vẫn chạy" in fake.texts
    assert "failed" not in zalo_log.text()
    assert all(len(t) <= 2000 for t in fake.texts)
    # a numeric 64-bit sender id reaches Rasa as the exact digits
    assert all(isinstance(m.sender_id, str) for m in bot.received)
    assert json.dumps([m.text for m in bot.received])


# --- issue 13: limits, clean input --------------------------------------------------------


async def test_a_deeply_nested_event_is_refused_with_a_reason(fake, store_url):
    bot = Bot()
    event = text_event("xin chào", "deep")
    raw, headers = signed_request(event, APP_ID, OA_SECRET)
    raw = raw[:-1] + b', "extra": ' + b"[" * 900 + b"]" * 900 + b"}"
    async with running(make_channel(fake, store_url), bot) as post:
        status, body = await post({}, raw=raw, headers=headers)
    assert status == 400 and "deeper" in body["error"]
    assert bot.received == [] and fake.send_attempts == []


async def test_ids_and_metadata_from_zalo_are_cleaned_and_cut(fake, store_url):
    bot = Bot()
    event = text_event("xin\ud800 chào", "m-clean", user_id_by_app="\x00" + "9" * 5000)
    raw, headers = signed_request(event, APP_ID, OA_SECRET, escaped=True)
    async with running(make_channel(fake, store_url), bot) as post:
        assert (await post({}, raw=raw, headers=headers))[0] == 200
    (message,) = bot.received
    assert message.text == "xin chào"
    assert message.metadata["zalo"]["user_id_by_app"] == "9" * 256
    json.dumps(message.metadata, ensure_ascii=False).encode("utf-8")
