"""pydock's sans-I/O core: pure functions and small state machines."""
