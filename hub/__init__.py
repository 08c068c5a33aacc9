"""The real-time engine: WebSocket endpoint, frames, fan-out over Redis, presence and resume."""
