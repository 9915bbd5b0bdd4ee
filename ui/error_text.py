"""The words for a conversation's failures, and the one for the unexpected.

An engine error carries its own ``user_message``; these are what the UI adds
around it, or says when there is no engine reason to give.
"""

from __future__ import annotations

#: Something failed that the engine has no words for (a bug, most likely).
GENERIC_ERROR = "Something went wrong. Please try again."

HISTORY_FAILED = "Earlier messages could not be loaded. {}"
CONVERSATION_GONE = "You are no longer in this conversation."
SIGNED_OUT = "You are signed out."
