"""The domain error tree: outcomes, not transports (http/errors.py maps them to statuses)."""

from __future__ import annotations


class ParlourError(Exception):
    """Base of every error a user of parlour can cause; `detail` is shown to them verbatim."""

    title = "Error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(ParlourError):
    title = "Invalid input"


class NotAuthenticated(ParlourError):
    title = "Not logged in"


class NotAllowed(ParlourError):
    title = "Not allowed"


class NotFound(ParlourError):
    title = "Not found"


class Conflict(ParlourError):
    title = "Conflict"


class Gone(ParlourError):
    title = "Gone"


class RateLimited(ParlourError):
    title = "Too many attempts"

    def __init__(self, detail: str, retry_after_seconds: int) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds


class TooManyFailedLogins(RateLimited):
    """The login throttle (docs/api/sessions.md): too many attempts for one name from this
    address, or (`whole_address`) from this address over all names."""

    def __init__(self, retry_after_seconds: int, *, whole_address: bool = False) -> None:
        detail = (
            "Too many failed logins from your address; try again later."
            if whole_address
            else "Too many failed logins for this name; try again later."
        )
        super().__init__(detail, retry_after_seconds)
        self.whole_address = whole_address


class ServerBusy(RateLimited):
    """Every turn to check a password is taken (domain/passwords.py): not a failed login."""

    def __init__(self) -> None:
        super().__init__(
            "The server is busy checking other passwords; try again in a moment.",
            retry_after_seconds=1,
        )


class NotReady(ParlourError):
    title = "Not ready"


class SetupRequired(NotReady):
    def __init__(self) -> None:
        super().__init__(
            "This server has not been set up yet: create the first user with POST /api/setup."
        )


class SetupAlreadyDone(Conflict):
    def __init__(self) -> None:
        super().__init__("Setup is already completed; log in instead.")


class NameTaken(Conflict):
    pass


class UserNameTaken(NameTaken):
    def __init__(self, name: str) -> None:
        super().__init__(f"The name {name!r} is taken; choose another.")


class ChannelNameTaken(NameTaken):
    def __init__(self, name: str) -> None:
        super().__init__(f"A channel named {name!r} exists already; choose another name.")


class UserNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No such user.")


class SessionEnded(NotAuthenticated):
    def __init__(self) -> None:
        super().__init__("Your session has ended (logged out or expired); log in again.")


class AdminsOnly(NotAllowed):
    def __init__(self, what: str) -> None:
        super().__init__(f"Only an admin may {what}.")


class LastActiveAdmin(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "This would leave the server with no active admin: make someone else an admin first."
        )


class UserDeactivated(Conflict):
    def __init__(self) -> None:
        super().__init__("This user is deactivated: reactivate them first.")


class ResetLinkNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__(
            "No such password-reset link: it may have been used already, replaced by a newer "
            "one, or expired. Ask an admin for a new one."
        )


class UnknownMember(InvalidInput):
    def __init__(self, user_id: str) -> None:
        super().__init__(f"No active user has the id {user_id!r}: members must be active users.")


class NotAMember(NotFound):
    def __init__(self) -> None:
        super().__init__("That user is not a member of this channel.")


class MembersOnlyInPrivate(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "Only a private channel has members to add or remove: everyone is in a public "
            "channel, and a direct channel's members are fixed."
        )


class AlreadyMember(Conflict):
    def __init__(self) -> None:
        super().__init__("That user is a member of this channel already.")


class DirectChannelKept(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "A direct channel cannot be deleted; it expires like any channel once it is empty "
            "and idle."
        )


class BadMention(InvalidInput):
    def __init__(self, user_id: str) -> None:
        super().__init__(
            f"Cannot mention {user_id!r}: mentions must be active users who can see the channel."
        )


class NotTheAuthor(NotAllowed):
    def __init__(self) -> None:
        super().__init__("Only the sender of a message can edit it.")


class ReactionExists(Conflict):
    def __init__(self) -> None:
        super().__init__("You have added this reaction to the message already.")


class TooManyReactions(Conflict):
    def __init__(self, limit: int) -> None:
        super().__init__(f"A message holds at most {limit} different reactions.")


class ReactionNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("You have not added this reaction to the message.")


class ChannelNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No such channel: it may have been deleted.")


class MessageNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No such message: it may have been deleted already.")


class InviteNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No such invitation: it may have been used already, or expired.")


class NotTheSender(NotAllowed):
    def __init__(self) -> None:
        super().__init__("Only the sender of a message (or an admin) can delete it.")


class NotTheIssuer(NotAllowed):
    def __init__(self) -> None:
        super().__init__("Only whoever issued an invitation (or an admin) can revoke it.")


class ChannelNotEmpty(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "The channel still holds messages; it can be deleted once they are all gone."
        )


class ResumePointTooOld(Gone):
    def __init__(self) -> None:
        super().__init__(
            "Events after this resume point have been forgotten; boot again (GET /api/boot)."
        )


class PushOff(NotFound):
    def __init__(self) -> None:
        super().__init__(
            "Web Push is off on this server (parlour serve --push off): there is nothing to "
            "subscribe to."
        )


class StorageError(Exception):
    """The store could not do its job (disk full, database broken): not the user's fault."""


class StorageFull(StorageError):
    """The disk holding the database is full: nothing was changed, and writing resumes once
    the operator frees space (reads go on meanwhile)."""


class StartupRefused(Exception):
    """The database cannot be opened as it is; the message tells the operator what to do."""
