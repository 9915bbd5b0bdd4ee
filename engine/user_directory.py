"""The server's user directory: finding people by name or ID as the user types."""

from __future__ import annotations

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
