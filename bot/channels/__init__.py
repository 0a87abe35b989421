"""Channels turn a messenger's updates into :class:`Incoming` and render :class:`Reply`."""
