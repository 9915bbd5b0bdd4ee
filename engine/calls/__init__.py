"""Two-party audio calls: Matrix VoIP signalling (version "1") and the AV modality states.

``media_port`` is the contract with the media layer (engine/media/), ``voip_events``
builds and reads the m.call.* events, ``call_state`` is the pure state machine and
``two_party_calls`` the ``Calls`` service on the session that does the I/O.
"""
