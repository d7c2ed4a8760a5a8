"""A small error hierarchy. Adapters choose the HTTP status or exit code; the core
only says what went wrong, in words a user can act on."""

from __future__ import annotations


class DealregError(Exception):
    """Base of every error dealreg raises on purpose."""


class InputError(DealregError):
    """An incoming record is unusable: one (field, message) pair per problem."""

    def __init__(self, problems: list[tuple[str, str]] | tuple[tuple[str, str], ...]):
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.problems))


class RulesError(DealregError):
    """The rules file (or a CSV it references) is invalid; the message names the key."""


class StoreError(DealregError):
    """A store refused an operation for a reason that retrying will not fix."""


class StoreUnavailable(StoreError):
    """A store is down, slow or rate-limited: the caller answers 503 so the sender retries.
    Never read as "no conflict"."""


class DeliveryFailed(DealregError):
    """A notification could not be delivered (Slack, e-mail). `permanent`: retrying will not help
    until a person fixes something (the message names it); otherwise the sweep sends it again."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Refusal(DealregError):
    """An operation a person asked for cannot be done as asked (a review resolved already or changed
    since it was listed, an unknown registration). `kind`: "not_found", "conflict" or "invalid",
    which the adapters turn into 404, 409 or 400."""

    def __init__(self, message: str, kind: str = "conflict") -> None:
        super().__init__(message)
        self.kind = kind
