"""Events the registration app publishes (the only place it calls publish())."""

from dataclasses import dataclass

from apps.messaging.contracts import Event, event_named
from apps.messaging.publisher import publish


@dataclass(frozen=True)
class UserEvent(Event):
    user_id: int


UserRegistered = event_named("UserRegistered", UserEvent, "user.registered")
UserRegistrationRepeated = event_named(
    "UserRegistrationRepeated", UserEvent, "user.registration_repeated"
)
UserPasswordResetRequested = event_named(
    "UserPasswordResetRequested", UserEvent, "user.password_reset_requested"
)


@dataclass(frozen=True)
class InvitationCreated(Event):
    NAME = "invitation.created"
    invitation_id: int


@dataclass(frozen=True)
class ResidencyClaimed(Event):
    NAME = "residency.claimed"
    residency_id: int
    unit_id: int
    resident_id: int


@dataclass(frozen=True)
class ResidencyDecided(ResidencyClaimed):
    NAME = "residency.decided"
    status: str


def user_registered(user):
    publish(UserRegistered(user_id=user.id))


def user_registration_repeated(user):
    publish(UserRegistrationRepeated(user_id=user.id))


def invitation_created(invitation):
    publish(InvitationCreated(invitation_id=invitation.id))


def residency_claimed(residency):
    publish(ResidencyClaimed(residency.id, residency.unit_id, residency.resident_id))


def residency_decided(residency):
    publish(
        ResidencyDecided(
            residency.id, residency.unit_id, residency.resident_id, status=residency.status
        )
    )


def user_password_reset_requested(user):
    publish(UserPasswordResetRequested(user_id=user.id))
