"""The version of pydock, read by the build backend."""

__version__ = "0.1.0"
