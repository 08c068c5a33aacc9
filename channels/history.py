"""Reading back: history pages by ``seq``, threads, and full-text search over what the user may read."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, literal, select

from channels.errors import ChatError
from channels.moderation.visibility import as_seen_by, states_of
from channels.reactions import reaction_counts
from channels.views import MessageView, View
from persistence.models import Message

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.sql import Select

    from channels.conversations import Conversations

MAX_PAGE = 100
# Private-use characters mark matches inside a snippet; they cannot occur in text a person typed
# through the client, so the highlight ranges are unambiguous and no HTML is ever produced.
_START, _STOP = "\ue000", "\ue001"


class Page(View, kw_only=True):
    messages: list[MessageView]
    has_before: bool
    has_after: bool


class SearchHit(View, kw_only=True):
    message: MessageView
    snippet: str
    highlights: list[tuple[int, int]]
    """``[start, end)`` character ranges of ``snippet`` that matched."""


class History:
    """History and search, re-checking access on every read."""

    def __init__(self, *, conversations: Conversations) -> None:
        self.conversations = conversations
        self.session = conversations.session
        self.user_id = conversations.user_id

    async def page(
        self,
        conversation_id: UUID,
        *,
        before: int | None = None,
        after: int | None = None,
        around: int | None = None,
        limit: int = 50,
    ) -> Page:
        """Top-level messages (tombstones included) ordered by ``seq``: the latest, or those
        ``before``/``after`` a seq, or centred ``around`` one."""
        await self.conversations.visible(conversation_id)
        limit = max(1, min(limit, MAX_PAGE))
        base = select(Message).where(Message.conversation_id == conversation_id, Message.thread_root_id.is_(None))
        return await self._window(base, before=before, after=after, around=around, limit=limit)

    async def thread(self, root_id: UUID, *, after: int | None = None, limit: int = 50) -> tuple[MessageView, Page]:
        """A thread's root and its replies in order."""
        root = await self.session.get(Message, root_id)
        if root is None or root.thread_root_id is not None:
            raise ChatError("not_found", "No such thread.")
        await self.conversations.visible(root.conversation_id)
        limit = max(1, min(limit, MAX_PAGE))
        base = select(Message).where(Message.thread_root_id == root_id)
        page = await self._window(base, before=None, after=after if after is not None else 0, around=None, limit=limit)
        return (await self._views([root]))[0], page

    async def _window(
        self, base: Select[tuple[Message]], *, before: int | None, after: int | None, around: int | None, limit: int
    ) -> Page:
        if around is not None:
            older = await self._fetch(
                base.where(Message.seq < around).order_by(Message.seq.desc()).limit(limit // 2 + 1)
            )
            newer = await self._fetch(
                base.where(Message.seq >= around).order_by(Message.seq).limit(limit - limit // 2 + 1)
            )
            has_before = len(older) > limit // 2
            has_after = len(newer) > limit - limit // 2
            rows = list(reversed(older[: limit // 2])) + newer[: limit - limit // 2]
        elif after is not None:
            newer = await self._fetch(base.where(Message.seq > after).order_by(Message.seq).limit(limit + 1))
            rows, has_after = newer[:limit], len(newer) > limit
            has_before = await self._exists(base.where(Message.seq <= after))
        else:
            statement = base if before is None else base.where(Message.seq < before)
            older = await self._fetch(statement.order_by(Message.seq.desc()).limit(limit + 1))
            rows, has_before = list(reversed(older[:limit])), len(older) > limit
            has_after = before is not None and await self._exists(base.where(Message.seq >= before))
        return Page(messages=await self._views(rows), has_before=has_before, has_after=has_after)

    async def search(
        self,
        query: str,
        *,
        conversation_id: UUID | None = None,
        author_id: UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 20,
    ) -> list[SearchHit]:
        """Messages matching ``query`` (web-search syntax: words, "phrases", -exclusions) in
        conversations the user belongs to or public channels, newest first."""
        terms = func.websearch_to_tsquery("simple", query)
        # The matching runs in the owner's security-definer function so the GIN index can serve it
        # under row-level security (see migration 0008h); it returns ids of what the reader may read.
        matching = select(
            func.fieldhub_search_messages(
                terms, self.user_id, conversation_id, author_id, since, until, max(1, min(limit, MAX_PAGE))
            )
        )
        ids = list(await self.session.scalars(matching))
        if not ids:
            return []
        statement = (
            select(
                Message,
                func.ts_headline(
                    "simple",
                    Message.body,
                    terms,
                    literal(
                        f"StartSel={_START}, StopSel={_STOP}, MaxWords=35, MinWords=15, ShortWord=0, MaxFragments=0"
                    ),
                ),
            )
            .where(Message.id.in_(ids))
            .order_by(Message.created_at.desc(), Message.id.desc())
        )
        rows = (await self.session.execute(statement)).all()
        views = await self._views([message for message, _ in rows])
        hits = []
        for view, (_, marked) in zip(views, rows, strict=True):
            snippet, ranges = _highlights(marked)
            hits.append(SearchHit(message=view, snippet=snippet, highlights=ranges))
        return hits

    async def _fetch(self, statement: Select[tuple[Message]]) -> list[Message]:
        return list(await self.session.scalars(statement))

    async def _exists(self, statement: Select[tuple[Message]]) -> bool:
        return bool(await self.session.scalar(select(statement.limit(1).exists())))

    async def _views(self, messages: list[Message]) -> list[MessageView]:
        reactions = await reaction_counts(self.session, [m.id for m in messages])
        # Held and hidden messages keep their place; only their author sees the content.
        states = await states_of(self.session, [m.id for m in messages])
        return [as_seen_by(MessageView.of(m, reactions.get(m.id)), states.get(m.id), self.user_id) for m in messages]


def _highlights(marked: str) -> tuple[str, list[tuple[int, int]]]:
    """Strip the match markers from a ``ts_headline`` snippet and return it with the match ranges.

    >>> _highlights("a \\ue000cat\\ue001 sat")
    ('a cat sat', [(2, 5)])
    """
    snippet: list[str] = []
    ranges: list[tuple[int, int]] = []
    start = 0
    for char in marked:
        if char == _START:
            start = len(snippet)
        elif char == _STOP:
            ranges.append((start, len(snippet)))
        else:
            snippet.append(char)
    return "".join(snippet), ranges
