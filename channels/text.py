"""What the server reads in a message's text: mentions (``<@user-id>``, ``@here``, ``@channel``), links, emoji."""

from __future__ import annotations

import re
import unicodedata
from uuid import UUID

import msgspec

from channels.errors import ChatError

# The client's @-autocomplete inserts ``<@user-id>``: names change, ids do not.
_USER_MENTION = re.compile(r"<@([0-9a-fA-F-]{36})>")
_HERE = re.compile(r"(?<![\w@])@here\b")
_CHANNEL = re.compile(r"(?<![\w@])@(?:channel|everyone)\b")
_LINK = re.compile(r"\bhttps?://[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING_PUNCTUATION = ".,;:!?)]}'\""
MAX_LINKS = 20


class Mentions(msgspec.Struct, frozen=True):
    users: list[UUID]
    here: bool
    channel: bool


def parse_mentions(body: str) -> Mentions:
    """Mentions in ``body``, users deduplicated in order of appearance.

    >>> parse_mentions("hi <@01a212e7-9b52-7592-8166-3bb1763ff202> and @here").here
    True
    """
    users: list[UUID] = []
    for match in _USER_MENTION.finditer(body):
        try:
            user = UUID(match.group(1))
        except ValueError:
            continue
        if user not in users:
            users.append(user)
    return Mentions(users=users, here=bool(_HERE.search(body)), channel=bool(_CHANNEL.search(body)))


def find_links(body: str) -> list[str]:
    """``http(s)`` links in ``body``, without trailing punctuation, at most 20.

    >>> find_links("see https://example.com/a?b=1.")
    ['https://example.com/a?b=1']
    """
    links: list[str] = []
    for match in _LINK.finditer(body):
        link = match.group(0).rstrip(_TRAILING_PUNCTUATION)
        if link not in links:
            links.append(link)
        if len(links) == MAX_LINKS:
            break
    return links


_EMOJI_JOINERS = {"\u200d", "\ufe0f", "\u20e3"}


def is_emoji(text: str) -> bool:
    """Whether ``text`` is one emoji (with its modifiers, skin tones, flags or ZWJ sequence).

    >>> is_emoji("👍🏽"), is_emoji("🇵🇹"), is_emoji("ok")
    (True, True, False)
    """
    if not 1 <= len(text) <= 16:
        return False
    for char in text:
        if char in _EMOJI_JOINERS:
            continue
        code = ord(char)
        if 0x1F3FB <= code <= 0x1F3FF or 0x1F1E6 <= code <= 0x1F1FF or 0xE0020 <= code <= 0xE007F:
            continue  # skin tones, regional indicators (flags), tag sequences
        if unicodedata.category(char) != "So":
            return False
    return True


MAX_LINK = 2048
"""The longest link stored with a message (the column's width)."""


def check_body(body: str, *, allow_empty: bool, max_body: int) -> None:
    """Refuse an empty text (unless files carry the message), one over ``max_body`` characters, or
    one PostgreSQL cannot store (a NUL, a lone surrogate): in a batch, the database refusing one
    message would fail all of them."""
    if not body and not allow_empty:
        raise ChatError("invalid_message", "A message needs text or a file.")
    if len(body) > max_body:
        raise ChatError("message_too_long", f"A message has at most {max_body} characters.")
    if not storable(body):
        raise ChatError("invalid_message", "A message cannot contain NUL characters or lone surrogates.")


def links_of(body: str) -> list[str]:
    """The links to store with a message (see :func:`channels.text.find_links`).

    Raises:
        ChatError: ``invalid_message`` for a link longer than a stored link may be.
    """
    links = find_links(body)
    if any(len(link) > MAX_LINK for link in links):
        raise ChatError("invalid_message", f"A link has at most {MAX_LINK} characters.")
    return links


def storable(text: str) -> bool:
    """Whether PostgreSQL can store ``text`` (no NUL character, no lone surrogate)."""
    if "\x00" in text:
        return False
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True
