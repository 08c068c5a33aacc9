"""The chat routes, one controller per resource."""

from api.chat.controllers.conversations import ConversationController
from api.chat.controllers.messages import HistoryController, MessageController, SearchController
from api.chat.controllers.presence import PresenceController

__all__ = ["ConversationController", "HistoryController", "MessageController", "PresenceController", "SearchController"]
