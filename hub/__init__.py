"""fieldhub's real-time hub: WebSocket endpoint, fan-out over Redis, presence, typing and resume."""

from __future__ import annotations

from hub.broker import Broker, BrokerListener
from hub.config import HubConfig
from hub.endpoint import HubApp
from hub.frames import ClientFrame, ServerFrame
from hub.heap import freeze_startup_heap
from hub.hooks import (
    Authenticator,
    FrameContext,
    FrameHandler,
    Principal,
    ReplayEvent,
    ReplayProvider,
    ReplayResult,
    SubscriptionProvider,
)
from hub.hub import Hub
from hub.memory_broker import MemoryBroker
from hub.publisher import HubPublisher
from hub.redis_broker import RedisBroker, ShardedRedisBroker
from hub.topics import TopicError, topic, user_topic

__all__ = [
    "Authenticator",
    "Broker",
    "BrokerListener",
    "ClientFrame",
    "FrameContext",
    "FrameHandler",
    "Hub",
    "HubApp",
    "HubConfig",
    "HubPublisher",
    "MemoryBroker",
    "Principal",
    "RedisBroker",
    "ReplayEvent",
    "ReplayProvider",
    "ReplayResult",
    "ServerFrame",
    "ShardedRedisBroker",
    "SubscriptionProvider",
    "TopicError",
    "freeze_startup_heap",
    "topic",
    "user_topic",
]
