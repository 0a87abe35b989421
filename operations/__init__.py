"""Operations that every door shares (chat, command line, web): one function each, checking
the actor's rights when it runs."""

from operations.rights import CLI, Actor, NotPossible, OperationError, Refused, require_staff

__all__ = ["CLI", "Actor", "NotPossible", "OperationError", "Refused", "require_staff"]
