"""Calls with other Matrix clients' media stacks: nheko (GStreamer's webrtcbin).

A call from nheko 0.11.3 to Confero failed right after ICE: Confero answered
"a=setup:active", so aiortc was the DTLS client, and aiortc's client offers only ECDSA
cipher suites while webrtcbin's certificate is RSA ("dtlsdec1: Could not read from
resource" in nheko's log). ``GstLikePeer`` below is a real aiortc peer connection with
webrtcbin's DTLS set-up (an RSA certificate, OpenSSL's usual ECDSA and RSA suites),
on the test's own loop, offering as nheko does ("actpass").
"""

from __future__ import annotations

from collections.abc import Callable

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.rtcdtlstransport import RTCCertificate, SRTPProtectionProfile, generate_certificate
from cryptography.hazmat.primitives.asymmetric import rsa
from OpenSSL import SSL

from engine.media.audio_peer import as_dtls_server
from engine.media.tracks import ToneTrack
from tests.helpers.engines import eventually
from tests.helpers.sound import until_hears
from tests.media.conftest import Person

People = Callable[..., Person]

#: The offer nheko 0.11.3 (GStreamer 1.22) sent in its m.call.invite, as captured.
NHEKO_OFFER = """v=0
o=- 821269520087649825 0 IN IP4 0.0.0.0
s=-
t=0 0
a=ice-options:trickle
a=group:BUNDLE audio0
m=audio 9 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=setup:actpass
a=ice-ufrag:/ACs/n6U1Sp40Ws2q+fmopwCArkneEJV
a=ice-pwd:kzPB4zwyrQfJZxncO6FxbaihQYQtWfCr
a=rtcp-mux
a=rtcp-rsize
a=sendrecv
a=rtpmap:111 OPUS/48000/2
a=rtcp-fb:111 transport-cc
a=fmtp:111 sprop-stereo=0;sprop-maxcapturerate=48000
a=ssrc:3734746397 msid:user1165006943@host-d1a0d97a webrtctransceiver1
a=ssrc:3734746397 cname:user1165006943@host-d1a0d97a
a=mid:audio0
a=fingerprint:sha-256 43:C7:35:0A:FC:16:D1:41:0B:D1:9E:68:3A:B4:D9:33:A8:21:A2:B3:80:EC:F1:81:B3:F9:60:C2:C0:7B:B4:B7
a=rtcp-mux-only
"""  # noqa: E501 (verbatim)


class _RsaCertificate(RTCCertificate):
    """webrtcbin's DTLS: an RSA certificate; as client it offers ECDSA and RSA suites."""

    def __init__(self) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        super().__init__(key=key, cert=generate_certificate(key))  # type: ignore[arg-type]

    def _create_ssl_context(self, srtp_profiles: list[SRTPProtectionProfile]) -> SSL.Context:
        context = super()._create_ssl_context(srtp_profiles)
        context.set_cipher_list(b"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256")
        return context


def gst_like_peer() -> RTCPeerConnection:
    pc = RTCPeerConnection()
    # aiortc takes no certificate from outside; swap in the RSA one before any transport.
    pc._RTCPeerConnection__certificates = [_RsaCertificate()]  # type: ignore[attr-defined]
    return pc


async def test_an_answer_to_nhekos_offer_takes_the_dtls_server_role(make_person: People) -> None:
    bob = make_person("bob")
    peer = bob.factory.new_peer()
    answer = await peer.accept_offer(NHEKO_OFFER)
    assert "a=setup:passive" in answer
    assert "a=mid:audio0" in answer and "opus/48000/2" in answer.lower()
    await peer.close()


def test_an_offer_that_asks_for_a_role_keeps_it() -> None:
    answer = "v=0\r\na=setup:active\r\n"
    assert as_dtls_server(NHEKO_OFFER.replace("actpass", "passive"), answer) == answer
    assert as_dtls_server(NHEKO_OFFER, answer) == "v=0\r\na=setup:passive\r\n"


async def test_a_call_from_a_gstreamer_like_peer_connects_and_carries_audio(
    make_person: People,
) -> None:
    bob = make_person("bob")
    theirs = gst_like_peer()
    theirs.addTrack(ToneTrack(660))
    ours = bob.factory.new_peer()
    try:
        await theirs.setLocalDescription(await theirs.createOffer())
        assert "a=setup:actpass" in theirs.localDescription.sdp
        answer = await ours.accept_offer(theirs.localDescription.sdp)
        await theirs.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        await eventually(lambda: ours.state == "connected" or ours.state == "failed", timeout=20.0)
        assert ours.state == "connected"
        assert theirs.connectionState == "connected"
        await until_hears(bob, 660)
    finally:
        await ours.close()
        await theirs.close()
