"""Events the registration app publishes (the only place it calls publish())."""

from apps.messaging.publisher import publish


def user_registered(user):
    publish("user.registered", {"user_id": user.id})


def user_registration_repeated(user):
    publish("user.registration_repeated", {"user_id": user.id})


def invitation_created(invitation):
    publish("invitation.created", {"invitation_id": invitation.id})


def residency_claimed(residency):
    publish(
        "residency.claimed",
        {"residency_id": residency.id, "unit_id": residency.unit_id,
         "resident_id": residency.resident_id},
    )  # fmt: skip


def residency_decided(residency):
    publish(
        "residency.decided",
        {"residency_id": residency.id, "unit_id": residency.unit_id,
         "resident_id": residency.resident_id, "status": residency.status},
    )  # fmt: skip


def user_password_reset_requested(user):
    publish("user.password_reset_requested", {"user_id": user.id})
