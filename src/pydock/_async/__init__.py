"""pydock's I/O layer, written once, async (anyio). ``_sync`` is generated from it."""
