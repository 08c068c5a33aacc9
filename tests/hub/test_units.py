"""Pure parts of the hub, without sockets: topic fencing, token bucket, typing throttle, frame decoding."""

from __future__ import annotations

import json

import msgspec
import pytest
from litestar import Litestar, WebSocket, websocket
from redis.asyncio import Redis

from hub.config import HubConfig
from hub.connection import Connection
from hub.control import AddTopic, CloseSession, decode_command, encode_command
from hub.core import HubCore
from hub.endpoint import HubApp, HubWebSocket
from hub.fanout import pack
from hub.hooks import Principal
from hub.limits import TokenBucket
from hub.memory_broker import MemoryBroker
from hub.presence import Presence
from hub.topics import TopicError, belongs_to, namespace_of, topic, user_topic
from hub.typing_state import TypingThrottle


def test_topic_is_prefixed_with_its_namespace():
    assert topic("acme", "conv:42") == "t:acme:conv:42"
    assert user_topic("acme", "u1") == "t:acme:user:u1"


def test_namespace_with_a_colon_is_refused():
    with pytest.raises(TopicError):
        topic("acme:evil", "conv:1")


@pytest.mark.parametrize("name", ["t:acmex:conv:1", "t:acm:conv:1", "acme:conv:1", "t:acme", "t::conv:1"])
def test_topic_outside_the_namespace_does_not_belong_to_it(name):
    assert not belongs_to(name, "acme")


def test_namespace_of_a_malformed_topic_is_none():
    assert namespace_of("x:acme:conv") is None


def test_token_bucket_allows_the_burst_then_asks_to_wait():
    bucket = TokenBucket(burst=3, per_second=1.0)
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert 0.9 < bucket.take() <= 1.0


def test_typing_throttle_publishes_active_once_per_half_ttl():
    throttle = TypingThrottle(ttl_s=6.0)
    assert throttle.should_publish("c1", "t:a:conv:1", active=True)
    assert not throttle.should_publish("c1", "t:a:conv:1", active=True)
    assert throttle.should_publish("c2", "t:a:conv:1", active=True)


def test_typing_throttle_publishes_stop_only_after_active():
    throttle = TypingThrottle(ttl_s=6.0)
    assert not throttle.should_publish("c1", "t:a:conv:1", active=False)
    throttle.should_publish("c1", "t:a:conv:1", active=True)
    assert throttle.should_publish("c1", "t:a:conv:1", active=False)


def test_broker_packing_carries_the_seq_before_the_frame():
    assert pack(b"{}", 12) == b"12\n{}"
    assert pack(b"{}") == b"\n{}"


def test_control_commands_round_trip():
    for command in (AddTopic("acme", "u1", "t:acme:conv:1"), CloseSession("s1", 4001, "session_revoked")):
        assert decode_command(encode_command(command)) == command


def test_malformed_control_command_is_refused():
    with pytest.raises(msgspec.DecodeError):
        decode_command(b'{"op":"format_disk"}')


def test_presence_frames_go_only_to_topics_under_presence_prefixes_and_user_topics():
    config = HubConfig(presence_prefixes=["dm:"])
    core = HubCore(config=config, broker=MemoryBroker(), presence=Presence(redis=Redis(), node_id="n1", config=config))
    topics = ["t:acme:dm:1", "t:acme:conv:2", "t:acme:user:u1"]
    assert core.presence_topics(topics) == ["t:acme:dm:1", "t:acme:user:u1"]


def _queued_seqs(conn: Connection) -> list[int]:
    return [json.loads(text)["seq"] for text in conn._buffer]


def test_a_replay_fills_a_gap_inside_what_was_delivered_live() -> None:
    conn = Connection(
        socket=None,  # type: ignore[arg-type]  (the writer is not started: frames stay queued)
        principal=Principal(user_id="u1", namespace="acme", session_id="s1"),
        connection_id="c1",
        config=HubConfig(),
    )
    topic = "t:acme:conv:1"

    def frame(seq: int) -> str:
        return json.dumps({"type": "event", "topic": topic, "seq": seq})

    for seq in (1, 2, 4):  # 3 was published out of order and never arrived
        conn.deliver(topic, seq, frame(seq))
    conn.begin_replay(topic)
    conn.deliver(topic, 5, frame(5))  # held during the replay
    conn.finish_replay(topic, [(seq, frame(seq)) for seq in (1, 2, 3, 4)], since=0)
    assert _queued_seqs(conn) == [1, 2, 4, 3, 5]


async def _raw_send_seen_by_a_socket(app_class: type[Litestar]) -> tuple[object, object]:
    """Serve one socket under ``app_class`` and return (the server's ``send``, the socket's ``raw_send``)."""
    seen: list[object] = []

    @websocket("/ws", websocket_class=HubWebSocket, signature_namespace={"WebSocket": WebSocket})
    async def handler(socket: WebSocket) -> None:
        seen.append(socket.raw_send)  # type: ignore[attr-defined]
        await socket.accept()
        await socket.close()

    events = iter([{"type": "websocket.connect"}, {"type": "websocket.disconnect", "code": 1000}])

    async def receive() -> dict:
        return next(events)

    sent: list[dict] = []

    async def server_send(message: dict) -> None:
        sent.append(message)

    app = app_class(route_handlers=[handler])
    scope = {
        "type": "websocket",
        "path": "/ws",
        "raw_path": b"/ws",
        "root_path": "",
        "headers": [],
        "query_string": b"",
    }
    scope |= {"scheme": "ws", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 5), "subprotocols": []}
    await app(scope, receive, server_send)  # type: ignore[arg-type]
    assert seen, sent
    return server_send, seen[0]


async def test_a_socket_under_the_hub_app_writes_through_the_servers_own_send():
    server_send, raw_send = await _raw_send_seen_by_a_socket(HubApp)
    assert raw_send is server_send


async def test_a_socket_under_plain_litestar_writes_through_the_send_its_route_was_given():
    server_send, raw_send = await _raw_send_seen_by_a_socket(Litestar)
    assert raw_send is not server_send
    assert callable(raw_send)
