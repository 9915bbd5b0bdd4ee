"""Bad session descriptions and candidates: a clear error or a log line, never a hang."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from engine.media.errors import InvalidSdp
from tests.helpers.audio import TonePlayer
from tests.helpers.sound import connect, until_hears
from tests.media.conftest import Person

People = Callable[..., Person]


async def test_offer_without_audio_or_garbage_is_refused_and_the_peer_still_works(
    make_person: People,
) -> None:
    alice, bob = make_person("alice"), make_person("bob")
    a, b = alice.factory.new_peer(), bob.factory.new_peer()
    offer = await a.create_offer()
    video_only = offer.replace("m=audio", "m=video")
    no_common_codec = offer.replace("opus/48000/2", "nosuchcodec/48000/2")

    for bad in (video_only, "hello, this is not SDP", "", no_common_codec):
        with pytest.raises(InvalidSdp) as raised:
            await b.accept_offer(bad)
        assert isinstance(raised.value, ValueError)
        assert raised.value.user_message
    with pytest.raises(ValueError):
        await a.accept_answer("v=0\r\nnonsense")

    # Neither refusal broke anything: the real offer still makes a call.
    c = bob.factory.new_peer()
    answer = await c.accept_offer(offer)
    await a.accept_answer(answer)
    with TonePlayer(alice.audio.server or "", alice.devices.mic_sink, 440):
        await until_hears(bob, 440)
    for peer in (a, b, c):
        await peer.close()


async def test_bad_candidates_are_skipped_with_a_log_line(
    make_person: People, caplog: pytest.LogCaptureFixture
) -> None:
    alice, bob = make_person("alice"), make_person("bob")
    a, b = alice.factory.new_peer(), bob.factory.new_peer()
    await connect(a, b)
    with caplog.at_level(logging.WARNING, logger="engine.media.audio_peer"):
        await b.add_remote_candidates(
            [
                {"candidate": "candidate:garbage", "sdpMid": "0", "sdpMLineIndex": 0},
                {"candidate": 42, "sdpMid": "0"},
                {"sdpMid": "0"},
                {"candidate": "", "sdpMid": "0", "sdpMLineIndex": 0},  # end of candidates
            ]
        )
    assert sum("bad ICE candidate" in r.getMessage() for r in caplog.records) == 3
    assert a.local_candidates() == []  # aiortc puts them all in the SDP
    assert b.state == "connected"
    await a.close()
    await b.close()
    await a.close()  # idempotent
