"""Chat: conversations, membership, messages, threads, reactions, read state, search and moderation."""
