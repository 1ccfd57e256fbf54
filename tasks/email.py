"""The email consumer (user_registration): confirmation, account-exists, invitation,
residency claim and decision, and password reset emails."""

from celery import shared_task

from apps.registration.services import (
    invitation_send,
    password_reset_send,
    residency_claim_notify,
    residency_decision_send,
    user_account_exists_notice_send,
    user_confirmation_send,
)
from tasks.base import ConsumerTask


@shared_task(bind=True, base=ConsumerTask, name="email.send_registration_confirmation")
def send_registration_confirmation(self, event):
    user_confirmation_send(event.user_id)


@shared_task(bind=True, base=ConsumerTask, name="email.send_account_exists_notice")
def send_account_exists_notice(self, event):
    user_account_exists_notice_send(event.user_id)


@shared_task(bind=True, base=ConsumerTask, name="email.send_invitation")
def send_invitation(self, event):
    invitation_send(event.invitation_id)


@shared_task(bind=True, base=ConsumerTask, name="email.notify_residency_claimed")
def notify_residency_claimed(self, event):
    residency_claim_notify(event.residency_id)


@shared_task(bind=True, base=ConsumerTask, name="email.send_residency_decision")
def send_residency_decision(self, event):
    residency_decision_send(event.residency_id)


@shared_task(bind=True, base=ConsumerTask, name="email.send_password_reset")
def send_password_reset(self, event):
    password_reset_send(event.user_id)
