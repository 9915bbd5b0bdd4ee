"""Two-party calls through the GUI: the Call button, the call bar, the incoming-call toast.

Real engines on the session's Synapse, each with its own virtual microphone and
speaker on the test session's private PulseAudio server (tests/helpers/pulse.py),
chosen through the app's settings as a user would in Preferences. Tones are
generated (sine waves) and played into a person's virtual microphone; what the
other hears is recorded from their virtual speaker and checked by FFT. The ring
tone (resources/ring.wav) is checked the same way on the callee's speaker.
Nothing is mocked.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessibleActionInterface
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from engine.calls.call_errors import CallNotPossible
from engine.calls.call_models import AvModalityState
from engine.engine import Engine
from engine.settings import Settings
from tests.helpers.a11y import do_action, unnamed_controls
from tests.helpers.audio import TonePlayer
from tests.helpers.engines import signed_in_engine
from tests.helpers.gui_people import close_people
from tests.helpers.pulse import Participant, PulseServer, server_without_microphone
from tests.helpers.qt_async import wait_until
from tests.helpers.sound import until_hears, until_silent
from tests.helpers.users import TestUser
from tests.ui.test_meetings import SLOW, click, shoot
from ui.bridge import EngineBridge
from ui.call_bar import CallBar
from ui.call_sounds import TEST_TONE_HZ
from ui.call_text import NO_MICROPHONE_NOTE
from ui.conversation_window import ConversationWindow
from ui.engine_calls import wait_for_background_work
from ui.main_window import MainWindow
from ui.preferences_dialog import PreferencesDialog
from ui.window_registry import ConversationWindows

pytestmark = [pytest.mark.integration, pytest.mark.gui]

ALICE_HZ = 880.0
RING_HZ = 425.0  # one of the ring tone's two tones


@dataclass
class Caller:
    name: str
    user: TestUser
    engine: Engine
    bridge: EngineBridge
    windows: ConversationWindows
    devices: Participant  # play into devices.mic_sink to speak; its speaker is recorded
    server: str
    main: MainWindow | None = None

    @property
    def user_id(self) -> str:
        return self.engine.session.user_id or ""

    def bar(self, room_id: str) -> CallBar:
        window = self.windows.find(room_id)
        assert window is not None and window.call_bar is not None
        return window.call_bar


@dataclass
class Callers:
    make_user: Callable[..., TestUser]
    tmp_path: Path
    pulse: PulseServer
    everyone: list[Caller] = field(default_factory=list)

    async def __call__(
        self,
        name: str,
        *,
        main_window: bool = True,
        plugged_microphone: bool = False,
        user: TestUser | None = None,
    ) -> Caller:
        """``plugged_microphone``: a real (non-monitor) source, as Preferences lists them;
        ``user``: the same account again, signed in on another device."""
        user = user or self.make_user(name.lower(), displayname=name)
        folder = self.tmp_path / f"{name}-{len(self.everyone)}"
        engine = await signed_in_engine(user, folder, start=False)
        devices = self.pulse.participant(f"gui{name.lower()}{len(self.everyone)}")
        if plugged_microphone:
            mic = self.pulse.add_microphone(f"plugged_{devices.name}", devices.mic)
            devices = dataclasses.replace(devices, mic=mic)
        bridge = EngineBridge(engine.session.bus)
        windows = ConversationWindows(engine, bridge)
        person = Caller(name, user, engine, bridge, windows, devices, self.pulse.server)
        if main_window:
            # The devices come from the settings, as Preferences saves them.
            settings = Settings(microphone=devices.mic, speaker=devices.speaker)
            person.main = MainWindow(engine, bridge, windows=windows, settings=settings)
            person.main.show()
        else:
            engine.media.choose_devices(devices.mic, devices.speaker)
        await engine.session.start()
        self.everyone.append(person)
        return person

    async def close(self) -> None:
        everyone, self.everyone = self.everyone, []
        await close_people(everyone)


@pytest.fixture
async def callers(
    make_user: Callable[..., TestUser], tmp_path: Path, pulse_server: PulseServer
) -> AsyncIterator[Callers]:
    crowd = Callers(make_user, tmp_path, pulse_server)
    try:
        yield crowd
    finally:
        await crowd.close()


async def conversation(caller: Caller, callee: Caller) -> tuple[str, ConversationWindow]:
    """A two-party conversation both have joined, and the caller's window on it."""
    room_id = await caller.engine.conversations.start_direct_conversation(callee.user_id)
    client = caller.engine.session.client
    assert client is not None
    await wait_until(
        lambda: (
            callee.user_id in client.rooms[room_id].users
            and callee.user_id not in client.rooms[room_id].invited_users
        ),
        SLOW,
    )
    window = caller.windows.open(room_id)
    assert window.call_bar is not None
    await wait_until(lambda: window.call_bar.call_button.isVisible(), SLOW)
    return room_id, window


def state(person: Caller, room_id: str) -> AvModalityState | None:
    call = person.engine.calls.call_in(room_id)
    return call.state if call else None


def press(window: ConversationWindow, key: Qt.Key) -> None:
    """A window shortcut: Ctrl+Shift+key."""
    window.activateWindow()  # shortcuts work in the active window only
    QApplication.setActiveWindow(window)
    modifiers = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    QTest.keyClick(window.composer, key, modifiers)


async def test_call_answer_from_the_toast_hear_mute_hold_and_hang_up(
    callers: Callers, qtbot
) -> None:
    alice, bob = await callers("Alice"), await callers("Bob")
    assert bob.main is not None
    room_id, alice_window = await conversation(alice, bob)
    alice_bar = alice.bar(room_id)
    assert alice_bar.call_button.accessibleName() == "Call"
    assert "Ctrl+Shift+C" in alice_bar.call_button.toolTip()
    assert unnamed_controls(alice_window) == []
    await shoot(alice_window, "call_button", alice_bar.call_button)

    # Alice clicks Call: her bar says she is calling Bob; Bob's main window rings.
    click(alice_bar.call_button)
    await wait_until(lambda: alice_bar.text() == "Calling Bob…", SLOW)
    assert not alice_bar.call_button.isEnabled()  # one call at a time
    assert alice_bar.hang_up_button.isVisible()
    await shoot(alice_window, "call_bar_calling", alice_bar.hang_up_button)
    toasts = bob.main.call_toasts
    await wait_until(lambda: len(toasts.toasts()) == 1, SLOW)
    toast = toasts.toasts()[0]
    assert toast.title_label.text() == "Alice is calling you"
    assert unnamed_controls(toast) == []
    assert toasts.ringing
    await until_hears(bob, RING_HZ)  # the ring tone, on Bob's chosen speaker
    await shoot(bob.main, "call_toast", toast.answer_button)

    # Bob answers from the toast: his conversation window opens with the call bar.
    click(toast.answer_button)
    await wait_until(lambda: bob.windows.find(room_id) is not None, SLOW)
    bob_window = bob.windows.find(room_id)
    assert bob_window is not None
    bob_bar = bob.bar(room_id)
    await wait_until(
        lambda: (
            alice_bar.text().startswith("Connected ") and bob_bar.text().startswith("Connected ")
        ),
        SLOW,
    )
    assert "Connecting…" in alice_bar.history or "Connecting…" in bob_bar.history
    assert not toasts.toasts() and not toasts.ringing
    await until_silent(bob, RING_HZ)
    # The clock ticks: "Connected 00:00" becomes "Connected 00:01" and so on.
    first = alice_bar.text()
    await wait_until(lambda: alice_bar.text() != first, 5)
    assert alice_bar.text().startswith("Connected 00:0")
    assert unnamed_controls(alice_window) == [] and unnamed_controls(bob_window) == []
    await shoot(alice_window, "call_bar_connected", alice_bar.mute_button, alice_bar.hang_up_button)

    with TonePlayer(alice.server, alice.devices.mic_sink, ALICE_HZ):
        await until_hears(bob, ALICE_HZ)
        # Mute: Bob stops hearing Alice; the button now says Unmute.
        click(alice_bar.mute_button)
        await wait_until(lambda: "muted" in alice_bar.text(), SLOW)
        assert alice_bar.mute_button.text() == "Unmute"
        assert alice_bar.mute_button.accessibleName() == "Unmute"
        await until_silent(bob, ALICE_HZ)
        await shoot(alice_window, "call_bar_muted", alice_bar.mute_button)
        click(alice_bar.mute_button)
        await wait_until(lambda: alice_bar.mute_button.text() == "Mute", SLOW)
        await until_hears(bob, ALICE_HZ)

    # Hold: Alice's bar says On hold, Bob's You are on hold; Resume brings both back.
    click(alice_bar.hold_button)
    await wait_until(
        lambda: (
            alice_bar.text().startswith("On hold") and bob_bar.text().startswith("You are on hold")
        ),
        SLOW,
    )
    assert alice_bar.hold_button.text() == "Resume"
    await shoot(alice_window, "call_bar_on_hold", alice_bar.hold_button)
    await shoot(bob_window, "call_bar_you_are_on_hold", bob_bar.hang_up_button)
    click(alice_bar.hold_button)
    await wait_until(
        lambda: alice_bar.text().startswith("Connected") and bob_bar.text().startswith("Connected"),
        SLOW,
    )

    # Bob hangs up: both bars say why, and can be dismissed.
    click(bob_bar.hang_up_button)
    await wait_until(lambda: bob_bar.text() == "Call ended: you hung up", SLOW)
    await wait_until(lambda: alice_bar.text() == "Call ended: Bob hung up", SLOW)
    assert alice_bar.dismiss_button.isVisible() and not alice_bar.mute_button.isVisible()
    assert alice_bar.call_button.isEnabled()
    await shoot(alice_window, "call_bar_ended", alice_bar.dismiss_button)
    click(alice_bar.dismiss_button)
    assert alice_bar.text() == ""
    await callers.close()


async def test_decline_from_the_toast(callers: Callers, qtbot) -> None:
    alice, bob = await callers("Alice", main_window=False), await callers("Bob")
    assert bob.main is not None
    room_id, _window = await conversation(alice, bob)
    alice_bar = alice.bar(room_id)
    click(alice_bar.call_button)
    toasts = bob.main.call_toasts
    await wait_until(lambda: len(toasts.toasts()) == 1, SLOW)
    click(toasts.toasts()[0].decline_button)
    await wait_until(lambda: alice_bar.text() == "Call ended: Bob declined", SLOW)
    await wait_until(lambda: not toasts.toasts() and not toasts.ringing, SLOW)
    assert state(bob, room_id) in (None, AvModalityState.DISCONNECTED)
    await callers.close()


async def test_answered_on_another_device_takes_the_toast_away(
    callers: Callers, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ui.call_bar.ENDED_VISIBLE_MS", 300)  # the end fades soon
    alice = await callers("Alice", main_window=False)
    bob = await callers("Bob")
    bob_phone = await callers("Bob", main_window=False, user=bob.user)
    assert bob.main is not None
    room_id, _window = await conversation(alice, bob)
    await wait_until(lambda: bob.engine.conversations.conversation(room_id) is not None, SLOW)
    bob_window = bob.windows.open(room_id)  # open but in the background: the bar rings too
    bob_bar = bob.bar(room_id)
    alice_bar = alice.bar(room_id)
    click(alice_bar.call_button)
    toasts = bob.main.call_toasts
    await wait_until(lambda: len(toasts.toasts()) == 1 and bob_bar.text() != "", SLOW)
    assert bob_bar.answer_button.isVisible()
    await wait_until(lambda: bool(bob_phone.engine.calls.calls()), SLOW)
    await bob_phone.engine.calls.answer(bob_phone.engine.calls.calls()[0].call_id)
    await wait_until(lambda: alice_bar.text().startswith("Connected"), SLOW)
    await wait_until(lambda: not toasts.toasts() and not toasts.ringing, SLOW)
    await wait_until(lambda: bob_bar.text() == "Call ended: answered on another device", SLOW)
    await wait_until(lambda: bob_bar.text() == "", SLOW)  # it faded away by itself
    assert bob_bar.call is None and bob_window.error_banner.text() == ""
    await callers.close()


async def test_caller_gives_up_and_the_toast_goes(callers: Callers, qtbot) -> None:
    alice, bob = await callers("Alice", main_window=False), await callers("Bob")
    assert bob.main is not None
    room_id, _window = await conversation(alice, bob)
    alice_bar = alice.bar(room_id)
    click(alice_bar.call_button)
    toasts = bob.main.call_toasts
    await wait_until(lambda: len(toasts.toasts()) == 1, SLOW)
    click(alice_bar.hang_up_button)
    await wait_until(lambda: alice_bar.text() == "Call ended: you hung up", SLOW)
    await wait_until(lambda: not toasts.toasts() and not toasts.ringing, SLOW)
    await callers.close()


async def test_a_call_by_keyboard_and_accessibility_only(callers: Callers, qtbot) -> None:
    alice = await callers("Alice", main_window=False)
    bob = await callers("Bob", main_window=False)
    room_id, alice_window = await conversation(alice, bob)
    alice_bar = alice.bar(room_id)
    await wait_until(lambda: bob.engine.conversations.conversation(room_id) is not None, SLOW)
    bob_window = bob.windows.open(room_id)
    bob_bar = bob.bar(room_id)

    press(alice_window, Qt.Key.Key_C)  # Call
    await wait_until(lambda: bob_bar.text() == "Alice is calling…", SLOW)
    assert bob_bar.answer_button.isVisible() and bob_bar.decline_button.isVisible()
    assert unnamed_controls(bob_window) == []
    await shoot(bob_window, "call_bar_ringing", bob_bar.answer_button)
    press(bob_window, Qt.Key.Key_S)  # Answer
    await wait_until(lambda: alice_bar.text().startswith("Connected"), SLOW)
    await wait_until(lambda: bob_bar.text().startswith("Connected"), SLOW)

    press(alice_window, Qt.Key.Key_M)  # Mute
    await wait_until(lambda: "muted" in alice_bar.text(), SLOW)
    # As a user sees it: the button is usable again once the mute is done.
    await wait_until(lambda: alice_bar.mute_button.isEnabled(), SLOW)
    press(alice_window, Qt.Key.Key_M)  # Unmute
    await wait_until(lambda: "muted" not in alice_bar.text(), SLOW)
    press(alice_window, Qt.Key.Key_P)  # Hold
    await wait_until(lambda: bob_bar.text().startswith("You are on hold"), SLOW)
    # A screen reader presses Resume through the accessibility interface.
    await wait_until(lambda: alice_bar.hold_button.isEnabled(), SLOW)  # the hold is answered
    assert alice_bar.hold_button.accessibleName() == "Resume"
    do_action(alice_bar.hold_button, QAccessibleActionInterface.pressAction())
    await wait_until(lambda: bob_bar.text().startswith("Connected"), SLOW)
    press(bob_window, Qt.Key.Key_H)  # Hang up
    await wait_until(lambda: alice_bar.text() == "Call ended: Bob hung up", SLOW)
    await callers.close()


async def test_a_call_the_engine_refuses_says_why_in_the_window(callers: Callers, qtbot) -> None:
    alice = await callers("Alice", main_window=False)
    bob = await callers("Bob", main_window=False)
    room_id, window = await conversation(alice, bob)
    client = alice.engine.session.client
    assert client is not None
    await client.room_put_state(room_id, "m.room.encryption", {"algorithm": "m.megolm.v1.aes-sha2"})
    await wait_until(lambda: window.encryption_note.text() != "", SLOW)
    bar = alice.bar(room_id)
    click(bar.call_button)
    await wait_until(lambda: window.error_banner.text() != "", SLOW)
    assert (
        window.error_banner.text()
        == CallNotPossible("Calls are not available in encrypted conversations yet.").user_message
    )
    assert bar.text() == "" and bar.call_button.isEnabled()
    assert state(alice, room_id) is None
    await shoot(window, "call_refused", window.error_banner)
    await callers.close()


async def test_preferences_list_the_devices_and_save_the_choice(callers: Callers, qtbot) -> None:
    alice = await callers("Alice", plugged_microphone=True)
    assert alice.main is not None
    other = callers.pulse.participant("guiother")  # another speaker to choose
    saved: list[Settings] = []
    alice.main.settings_changed.connect(saved.append)
    alice.main.preferences_action.trigger()
    dialog = alice.main.preferences_dialog
    assert isinstance(dialog, PreferencesDialog)
    audio = dialog.audio
    await wait_until(lambda: audio.loaded, SLOW)
    mics = [audio.microphone_combo.itemData(i) for i in range(audio.microphone_combo.count())]
    speakers = [audio.speaker_combo.itemData(i) for i in range(audio.speaker_combo.count())]
    assert audio.microphone_combo.itemText(0) == "System default" and mics[0] == ""
    assert alice.devices.mic in mics  # chosen in the settings
    assert alice.devices.speaker in speakers and other.speaker in speakers
    assert audio.microphone() == alice.devices.mic and audio.speaker() == alice.devices.speaker
    assert not [m for m in mics if m.endswith(".monitor")]  # they would echo the speaker
    assert unnamed_controls(dialog) == []

    # The meter moves with what the microphone hears.
    with TonePlayer(alice.server, alice.devices.mic_sink, ALICE_HZ):
        await wait_until(lambda: audio.level_meter.value() > 20, SLOW)
        await shoot(dialog, "preferences_audio", audio.microphone_combo, audio.test_button)
    # Test sound plays on the chosen speaker.
    click(audio.test_button)
    await until_hears(alice, TEST_TONE_HZ)

    # Choose another speaker and the system default microphone; OK saves.
    audio.speaker_combo.setCurrentIndex(audio.speaker_combo.findData(other.speaker))
    audio.microphone_combo.setCurrentIndex(0)
    dialog.accept()
    assert saved and saved[-1].speaker == other.speaker and saved[-1].microphone == ""
    assert alice.main.call_toasts.ringer.speaker == other.speaker  # applied at once
    await callers.close()


async def test_preferences_say_when_there_is_no_microphone(
    tmp_path: Path, pulse_server: PulseServer, monkeypatch: pytest.MonkeyPatch, qtbot
) -> None:
    # A sound server of its own with no devices at all: nothing to capture from.
    empty = PulseServer(tmp_path / "empty-pulse")
    empty.start()
    monkeypatch.setenv("PULSE_SERVER", empty.server)
    dialog = PreferencesDialog(Settings())
    try:
        dialog.show()
        dialog.audio.start()
        await wait_until(lambda: dialog.audio.loaded, SLOW)
        assert dialog.audio.microphone_combo.count() == 1  # only "System default"
        await wait_until(lambda: dialog.audio.note() == NO_MICROPHONE_NOTE, SLOW)
        await shoot(dialog, "preferences_no_microphone", dialog.audio.note_label)
    finally:
        dialog.reject()
        dialog.deleteLater()
        await wait_for_background_work()  # the meter's stream closes off the UI thread
        empty.stop()


async def test_a_call_without_a_microphone_is_receive_only_and_says_so(
    callers: Callers, tmp_path: Path, qtbot
) -> None:
    dora = await callers("Dora", main_window=False)
    alice = await callers("Alice", main_window=False)
    # Dora's computer has a speaker and no microphone (a sound server of her own).
    pulse, doras_ears = server_without_microphone(tmp_path / "dora-pulse", "dora")
    try:
        dora.engine.media.use_sound_server(pulse.server)
        dora.engine.media.choose_devices(None, doras_ears.devices.speaker)
        room_id, window = await conversation(dora, alice)
        click(dora.bar(room_id).call_button)
        await wait_until(lambda: alice.engine.calls.call_in(room_id) is not None, SLOW)
        call = alice.engine.calls.call_in(room_id)
        assert call is not None
        await alice.engine.calls.answer(call.call_id)
        await wait_until(lambda: dora.bar(room_id).text().startswith("Connected"), SLOW)

        # The call goes on, and Dora is told plainly that Alice can't hear her.
        await wait_until(lambda: window.error_banner.text() == NO_MICROPHONE_NOTE, SLOW)
        assert state(dora, room_id) is AvModalityState.CONNECTED
        with TonePlayer(alice.server, alice.devices.mic_sink, ALICE_HZ):
            await until_hears(doras_ears, ALICE_HZ, timeout=30)
        await shoot(window, "call_no_microphone", window.error_banner, dora.bar(room_id))
        await callers.close()
    finally:
        pulse.stop()
