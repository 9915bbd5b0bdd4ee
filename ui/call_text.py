"""The words of two-party calls: the call bar, the incoming-call toast, their buttons.

Shortcuts follow Microsoft Teams where it has one (Ctrl+Shift+C call, Ctrl+Shift+S
answer, Ctrl+Shift+D decline, Ctrl+Shift+M mute, Ctrl+Shift+H hang up); Teams has
none for hold, so Hold/Resume is Ctrl+Shift+P ("pause").
"""

from __future__ import annotations

from engine.calls.call_models import AvModalityState, Call, CallDirection, CallEndReason

CALL = "Call"
CALL_NAME = "Call"
CALL_TIP = "Start an audio call with {name} (Ctrl+Shift+C)"
CALL_SHORTCUT = "Ctrl+Shift+C"
ANSWER = "Answer"
ANSWER_TIP = "Answer the call (Ctrl+Shift+S)"
ANSWER_SHORTCUT = "Ctrl+Shift+S"
DECLINE = "Decline"
DECLINE_TIP = "Decline the call (Ctrl+Shift+D)"
DECLINE_SHORTCUT = "Ctrl+Shift+D"
MUTE = "Mute"
MUTE_TIP = "Stop sending your microphone (Ctrl+Shift+M)"
UNMUTE = "Unmute"
UNMUTE_TIP = "Send your microphone again (Ctrl+Shift+M)"
MUTE_SHORTCUT = "Ctrl+Shift+M"
HOLD = "Hold"
HOLD_TIP = "Put the call on hold: neither of you hears the other (Ctrl+Shift+P)"
RESUME = "Resume"
RESUME_TIP = "Take the call off hold (Ctrl+Shift+P)"
HOLD_SHORTCUT = "Ctrl+Shift+P"
HANG_UP = "Hang up"
HANG_UP_TIP = "End the call (Ctrl+Shift+H)"
HANG_UP_SHORTCUT = "Ctrl+Shift+H"
DISMISS_TIP = "Dismiss"

TOAST_TITLE = "Incoming call"
NO_MICROPHONE_NOTE = "No microphone was found. Others can't hear you, but you can hear them."

END_REASON_WORDS: dict[CallEndReason, str] = {
    CallEndReason.HUNG_UP_BY_YOU: "you hung up",
    CallEndReason.HUNG_UP_BY_THEM: "{name} hung up",
    CallEndReason.DECLINED: "declined",
    CallEndReason.NO_ANSWER: "no answer",
    CallEndReason.ANSWERED_ELSEWHERE: "answered on another device",
    CallEndReason.BUSY: "{name} is busy",
    CallEndReason.MEDIA_FAILED: "the audio connection could not be set up",
    CallEndReason.NETWORK_LOST: "the connection was lost",
    CallEndReason.REPLACED: "you both called at once; the other call goes on",
    CallEndReason.MOVED_TO_MEETING: "moved to the meeting",
}


def duration_text(seconds: float) -> str:
    """01:23, or 1:02:03 past an hour."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def ended_text(call: Call, name: str) -> str:
    reason = call.end_reason
    if reason is CallEndReason.DECLINED and call.direction is CallDirection.OUTGOING:
        why = f"{name} declined"
    elif reason is CallEndReason.DECLINED:
        why = "you declined"
    else:
        why = END_REASON_WORDS.get(reason, "") if reason else ""
    why = why.format(name=name)
    return f"Call ended: {why}" if why else "Call ended"


def call_state_text(call: Call, name: str, now: float) -> str:
    """The bar's line for ``call`` with ``name`` (the other person) at ``now``."""
    state = call.state
    if state is AvModalityState.NOTIFIED:
        return f"{name} is calling…"
    if state is AvModalityState.CONNECTING:
        if call.direction is CallDirection.OUTGOING:
            return f"Calling {name}…"
        return "Connecting…"
    if state is AvModalityState.JOINING:
        return "Connecting…"
    if state in (AvModalityState.CONNECTED, AvModalityState.ON_HOLD):
        clock = duration_text(call.duration_s(now))
        if call.on_hold:
            return f"On hold {clock}"
        if call.remote_on_hold:
            return f"You are on hold {clock}"
        return f"Connected {clock}" + (" · muted" if call.muted else "")
    if state is AvModalityState.DISCONNECTED:
        return ended_text(call, name)
    return ""


def toast_text(name: str) -> str:
    return f"{name} is calling you"
