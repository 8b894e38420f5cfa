"""The Zoom webhook receiver: verify, store once, dispatch to one small handler per event name."""
