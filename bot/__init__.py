"""coopbot: the channels, settings, composition root and command line of the assistant."""

__version__ = "0.1.0"
