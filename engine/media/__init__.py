"""Audio for calls and meetings: devices, tracks, WebRTC peers. No Qt here.

aiortc is CPU-heavy, so everything it does runs on a MediaThread (its own asyncio loop);
callers on the main loop only await results and receive state callbacks.
"""
