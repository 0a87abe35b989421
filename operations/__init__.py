"""Operations that every door shares (chat, command line, web): one function each, checking
the actor's rights when it runs."""

from operations.rights import Actor, NotPossible, OperationError, Refused

__all__ = ["Actor", "NotPossible", "OperationError", "Refused"]
