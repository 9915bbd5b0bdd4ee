"""A small freedesktop notification server for tests: ``python -m
tests.helpers.notification_server`` on the bus DBUS_SESSION_BUS_ADDRESS names.

It owns org.freedesktop.Notifications (Notify, CloseNotification, GetCapabilities,
GetServerInformation), prints one JSON line per Notify and CloseNotification it is
sent, and on a line ``invoke <id> <action>`` on its stdin does what a person's click
does on a desktop: ActionInvoked, then NotificationClosed (reason 2, dismissed).
Plain jeepney, no Qt: the client under test is the app's own QtDBus code.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
from itertools import count
from typing import Any

from jeepney import DBusAddress, HeaderFields, MessageType, new_method_return, new_signal
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection
from jeepney.wrappers import new_error

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
NOTIFY_SIGNATURE = "susssasa{sv}i"
EMITTER = DBusAddress(PATH, interface=NAME)
#: Why a notification closed (the spec's reasons).
EXPIRED, DISMISSED, CLOSED_BY_CALL = 1, 2, 3


def say(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def read_commands(commands: queue.Queue[str]) -> None:
    for line in sys.stdin:
        commands.put(line.strip())


def main() -> None:
    connection = open_dbus_connection("SESSION")
    reply = connection.send_and_get_reply(message_bus.RequestName(NAME, 4))  # DO_NOT_QUEUE
    if reply.body[0] != 1:
        say(event="error", reason=f"could not own {NAME}: {reply.body}")
        sys.exit(1)
    ids = count(1)
    shown: set[int] = set()
    commands: queue.Queue[str] = queue.Queue()
    threading.Thread(target=read_commands, args=(commands,), daemon=True).start()
    say(event="ready")

    def closed(notification: int, reason: int) -> None:
        if notification in shown:
            shown.discard(notification)
            signal = new_signal(EMITTER, "NotificationClosed", "uu", (notification, reason))
            connection.send(signal)

    while True:
        while not commands.empty():
            words = commands.get().split()
            if words[:1] == ["invoke"] and len(words) == 3:
                notification, action = int(words[1]), words[2]
                connection.send(new_signal(EMITTER, "ActionInvoked", "us", (notification, action)))
                closed(notification, DISMISSED)
            elif words[:1] == ["quit"]:
                return
        try:
            message = connection.receive(timeout=0.05)
        except TimeoutError:
            continue
        header = message.header
        if header.message_type is not MessageType.method_call:
            continue
        member = header.fields.get(HeaderFields.member)
        signature = header.fields.get(HeaderFields.signature, "")
        if member == "Notify" and signature != NOTIFY_SIGNATURE:
            # As a desktop's server would: the call does not match the interface.
            error = "org.freedesktop.DBus.Error.InvalidArgs"
            connection.send(new_error(message, error, "s", (f"Notify takes {NOTIFY_SIGNATURE}",)))
            say(event="refused", member=member, signature=signature)
        elif member == "Notify":
            app, replaces, icon, summary, body, actions, hints, timeout = message.body
            notification = replaces or next(ids)
            shown.add(notification)
            connection.send(new_method_return(message, "u", (notification,)))
            say(
                event="notify",
                id=notification,
                app_name=app,
                icon=icon,
                summary=summary,
                body=body,
                actions=list(actions),
                hints=sorted(hints),
                timeout=timeout,
            )
        elif member == "CloseNotification":
            (notification,) = message.body
            connection.send(new_method_return(message))
            say(event="close", id=notification)
            closed(notification, CLOSED_BY_CALL)
        elif member == "GetCapabilities":
            connection.send(new_method_return(message, "as", (["actions", "body"],)))
        elif member == "GetServerInformation":
            information = ("confero-tests", "Confero", "1", "1.2")
            connection.send(new_method_return(message, "ssss", information))
        else:
            error = "org.freedesktop.DBus.Error.UnknownMethod"
            connection.send(new_error(message, error, "s", (f"no method {member}",)))


if __name__ == "__main__":
    main()
