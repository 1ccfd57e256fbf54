"""The email consumer (user_registration): confirmation, account-exists, invitation,
residency claim and decision, move-out request, decision and withdrawal, and password reset
notices."""

from apps.messaging.consumers import Consumer
from apps.registration.services import (
    invitation_send,
    move_out_decision_send,
    move_out_request_notify,
    move_out_withdrawal_notify,
    password_reset_send,
    residency_claim_notify,
    residency_decision_send,
    user_account_exists_notice_send,
    user_confirmation_send,
)

consumer = Consumer("email", queues=["user_registration"])


@consumer.task("email.send_registration_confirmation", subscribes=["user.registered"])
def send_registration_confirmation(self, event):
    user_confirmation_send(event.user_id)


@consumer.task("email.send_account_exists_notice", subscribes=["user.registration_repeated"])
def send_account_exists_notice(self, event):
    user_account_exists_notice_send(event.user_id)


@consumer.task("email.send_invitation", subscribes=["invitation.created"])
def send_invitation(self, event):
    invitation_send(event.invitation_id)


@consumer.task("email.notify_residency_claimed", subscribes=["residency.claimed"])
def notify_residency_claimed(self, event):
    residency_claim_notify(event.residency_id)


@consumer.task("email.send_residency_decision", subscribes=["residency.decided"])
def send_residency_decision(self, event):
    residency_decision_send(event.residency_id)


@consumer.task("email.notify_move_out_requested", subscribes=["move_out.requested"])
def notify_move_out_requested(self, event):
    move_out_request_notify(event.move_out_id)


@consumer.task("email.send_move_out_decision", subscribes=["move_out.decided"])
def send_move_out_decision(self, event):
    move_out_decision_send(event.move_out_id)


@consumer.task("email.notify_move_out_withdrawn", subscribes=["move_out.withdrawn"])
def notify_move_out_withdrawn(self, event):
    move_out_withdrawal_notify(event.move_out_id)


@consumer.task("email.send_password_reset", subscribes=["user.password_reset_requested"])
def send_password_reset(self, event):
    password_reset_send(event.user_id)
