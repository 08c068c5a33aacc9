"""Chat on a Redis Cluster whose primary is killed mid-traffic: the replica takes over, both app nodes
follow it, clients resync and resume, and every member gets every acknowledged message exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient
from websockets.asyncio.client import ClientConnection

from bench.redis_cluster import LocalRedisCluster
from tests.kit import TenantKit, eventually
from tests.nodes import AppNode, next_frame

USERS = [f"member{n}" for n in range(6)]
CONVERSATIONS = {"busy": USERS, "left": USERS[:3], "right": USERS[3:]}
PACE_S = 0.1
"""Each sender's pause between messages: the traffic's rate (about 60 messages/s in all), not a wait."""
BEFORE_KILL = 5
"""Messages of the busy conversation every member sees live before its primary is killed."""
AFTER_RESYNC = 120
"""Messages acknowledged after every client resynced, before the senders stop."""


class ChatSocket:
    """One member's socket: sends paced messages, records every event seq, resumes on ``resync``.

    Like the browser client (``api/web/static/seq.js``) it resumes from the last seq it holds with
    nothing missing before it: live events published while its node was resubscribing may have
    arrived past a gap.
    """

    def __init__(self, ws: ClientConnection, topics: dict[str, str]) -> None:
        self.ws = ws
        self.topics = topics  # topic -> conversation id
        self.seqs: dict[str, list[int]] = defaultdict(list)
        self.upto: dict[str, int] = {}  # the first event (the warm-up message) starts the count
        self.resyncs = 0
        self.resumes: list[str] = []
        self._replies: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            frame = json.loads(raw)
            kind = frame["type"]
            if kind == "event" and frame["topic"] in self.topics and frame["seq"] is not None:
                self._record(frame["topic"], frame["seq"])
            elif kind == "resync":
                self.resyncs += 1
                for topic in frame["topics"]:
                    if topic in self.topics:
                        since = self.upto[topic]
                        await self.send_frame(
                            {"type": "subscribe", "ref": f"r-{topic}", "topic": topic, "since": since}
                        )
            elif kind == "subscribed" and frame.get("resume") is not None:
                self.resumes.append(frame["resume"])
            elif kind == "ping":
                await self.send_frame({"type": "pong"})
            future = self._replies.pop(frame.get("ref") or "", None)
            if future is not None:
                future.set_result(frame)

    def _record(self, topic: str, seq: int) -> None:
        self.seqs[topic].append(seq)
        held = set(self.seqs[topic])
        upto = self.upto.setdefault(topic, seq)
        while upto + 1 in held:
            upto += 1
        self.upto[topic] = upto

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame))

    async def say(self, conversation_id: str, client_id: str) -> dict[str, Any]:
        """Send a message and return the reply (``ack`` once it is committed)."""
        future = self._replies[client_id] = asyncio.get_running_loop().create_future()
        await self.send_frame(
            {"type": "send", "ref": client_id, "conversation_id": conversation_id, "client_id": client_id, "body": "hi"}
        )
        async with asyncio.timeout(10):
            return await future

    async def aclose(self) -> None:
        await self.ws.close()
        with contextlib.suppress(Exception):
            await self._reader


async def _until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    async def check() -> bool:
        return condition()

    await eventually(check, timeout)


@contextlib.asynccontextmanager
async def _members(
    client: AsyncTestClient[Litestar], tenant: TenantKit, nodes: list[AppNode]
) -> AsyncIterator[tuple[dict[str, str], dict[str, ChatSocket]]]:
    """The conversations (name -> topic) and one socket per member, alternating between the nodes."""
    for user in USERS:
        await tenant.add_user(user, roles=["staff"])
    admin = await tenant.headers(client, "admin")
    topics: dict[str, str] = {}
    ids: dict[str, str] = {}
    for name, members in CONVERSATIONS.items():
        created = await client.post(
            "/api/v1/conversations",
            json={"name": f"cluster-{name}", "member_ids": [str(tenant.users[m]) for m in members]},
            headers=admin,
        )
        ids[name] = created.json()["id"]
        topics[name] = f"t:{tenant.id}:conv:{ids[name]}"
    sockets: dict[str, ChatSocket] = {}
    for index, user in enumerate(USERS):
        ws = await nodes[index % 2].connect(headers=await tenant.headers(client, user))
        await next_frame(ws, "hello")
        mine = {topics[name]: ids[name] for name, members in CONVERSATIONS.items() if user in members}
        sockets[user] = ChatSocket(ws, mine)
    try:
        yield topics, sockets
    finally:
        for sock in sockets.values():
            await sock.aclose()


async def _talk(user: str, sock: ChatSocket, acked: dict[str, set[int]], stop: asyncio.Event) -> None:
    """Send into each of the member's conversations in turn until ``stop``; record acknowledged seqs."""
    count = 0
    while not stop.is_set():
        for topic, conversation_id in sock.topics.items():
            count += 1
            reply = await sock.say(conversation_id, f"{user}-{count}")
            if reply["type"] == "ack":
                acked[topic].add(reply["message"]["seq"])
            await asyncio.sleep(PACE_S)


async def test_killing_the_primary_of_a_busy_conversation_loses_and_doubles_nothing(
    client: AsyncTestClient[Litestar],
    tenant: TenantKit,
    cluster_nodes: list[AppNode],
    replicated_cluster: LocalRedisCluster,
) -> None:
    async with _members(client, tenant, cluster_nodes) as (topics, sockets):
        # A warm-up message per conversation gives every member a last seq to resume from.
        baseline = {}
        for name, members in CONVERSATIONS.items():
            topic = topics[name]
            ack = await sockets[members[0]].say(sockets[members[0]].topics[topic], f"warm-{name}")
            baseline[topic] = ack["message"]["seq"]
            await _until(lambda topic=topic, members=members: all(sockets[m].seqs[topic] for m in members))

        acked: dict[str, set[int]] = defaultdict(set)
        stop = asyncio.Event()
        talkers = [asyncio.create_task(_talk(user, sock, acked, stop)) for user, sock in sockets.items()]
        try:
            busy = topics["busy"]
            await _until(lambda: all(len(s.seqs[busy]) > BEFORE_KILL for s in sockets.values()))
            doomed = replicated_cluster.primary_of(busy)
            replicated_cluster.kill(doomed)
            promoted = await asyncio.to_thread(replicated_cluster.wait_failover, busy, old_primary=doomed)
            # Both nodes held the busy conversation's channel on the dead primary: every client resyncs.
            await _until(lambda: all(s.resyncs for s in sockets.values()), timeout=20)
            settled = sum(map(len, acked.values()))
            await _until(lambda: sum(map(len, acked.values())) >= settled + AFTER_RESYNC, timeout=20)
        finally:
            stop.set()
            await asyncio.gather(*talkers)

        def complete() -> bool:
            return all(acked[t] <= set(s.seqs[t]) for s in sockets.values() for t in s.topics)

        with contextlib.suppress(TimeoutError):
            await _until(complete)  # the assertions below say what is missing, if anything
        for user, sock in sockets.items():
            for topic in sock.topics:
                received = [seq for seq in sock.seqs[topic] if seq > baseline[topic]]
                assert sorted(acked[topic] - set(received)) == [], f"{user} lost acknowledged messages"
                assert len(received) == len(set(received)), f"{user} got a message twice"
                # Live events of two publishing nodes may arrive swapped; clients insert by seq (docs/protocol.md).
                assert sorted(received) == list(range(baseline[topic] + 1, max(received) + 1)), f"{user} has a gap"
        assert promoted != doomed
        assert {outcome for s in sockets.values() for outcome in s.resumes} == {"recovered"}
        async with httpx.AsyncClient() as http:
            for node in cluster_nodes:
                assert (await http.get(f"{node.url}/health/ready")).status_code == 200
