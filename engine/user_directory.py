"""The server's user directory: finding people by name or ID as the user types."""

from __future__ import annotations

from urllib.parse import quote

from engine.errors import UnknownUser
from engine.models import UserSummary
from engine.sanitize import clean_name
from engine.session import Session


async def search_users(session: Session, term: str, limit: int = 20) -> list[UserSummary]:
    session.require_client()
    term = term.strip()
    if not term:
        return []
    data = await session.api(
        "POST",
        "/_matrix/client/v3/user_directory/search",
        {"search_term": term[:200], "limit": limit},
    )
    results = data.get("results", []) if isinstance(data, dict) else []
    found = []
    for item in results:
        if not isinstance(item, dict) or not isinstance(item.get("user_id"), str):
            continue
        user_id = item["user_id"]
        name = clean_name(str(item.get("display_name") or "")) or user_id
        found.append(UserSummary(user_id, name))
    return found


async def require_user(session: Session, user_id: str) -> None:
    """Raise UnknownUser unless ``user_id`` has an account (its profile answers).

    Synapse accepts an invite for someone who does not exist, so this is how
    a mistyped ID is found before anything is sent to it.
    """
    profile = await session.api("GET", f"/_matrix/client/v3/profile/{quote(user_id, safe='')}")
    if isinstance(profile, dict) and profile.get("errcode") in ("M_NOT_FOUND", "M_UNKNOWN"):
        raise UnknownUser(f"There is no user {user_id} on the server.")
