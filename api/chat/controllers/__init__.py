"""The chat routes, one controller per resource."""

from api.chat.controllers.conversations import ConversationController
from api.chat.controllers.messages import HistoryController, MessageController, SearchController

__all__ = ["ConversationController", "HistoryController", "MessageController", "SearchController"]
