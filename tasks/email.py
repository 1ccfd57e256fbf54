"""The email consumer (user_registration): confirmation and account-exists emails."""

from celery import shared_task

from apps.registration.services import user_account_exists_notice_send, user_confirmation_send
from tasks.base import ConsumerTask


@shared_task(bind=True, base=ConsumerTask, name="email.send_registration_confirmation")
def send_registration_confirmation(self, event):
    user_confirmation_send(event["data"]["user_id"])


@shared_task(bind=True, base=ConsumerTask, name="email.send_account_exists_notice")
def send_account_exists_notice(self, event):
    user_account_exists_notice_send(event["data"]["user_id"])
