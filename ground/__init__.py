"""The ground floor: settings, translation, logging and the channel-neutral message types.

Every other package may import from here; nothing here imports from them.
"""
