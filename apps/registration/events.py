"""Events the registration app publishes (the only place it calls publish())."""

from apps.messaging.publisher import publish


def user_registered(user):
    publish("user.registered", {"user_id": user.id})


def user_registration_repeated(user):
    publish("user.registration_repeated", {"user_id": user.id})
