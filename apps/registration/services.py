"""Writes of the registration app: registration and confirmation, invitations, residency
claims and their approval, who is told of a move-out request, its decision and its
withdrawal, password reset."""

import secrets
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from apps.accounts.models import Role, User
from apps.accounts.services import user_password_set
from apps.core.errors import Conflict, Invalid
from apps.core.local_time import local_date
from apps.notifications.selectors import users_notified
from apps.notifications.services import notification_request, notifications_request_for
from apps.properties.models import MoveOutRequest, MoveOutStatus, Residency, Unit
from apps.properties.selectors import properties_managed_by, staff_for_property
from apps.registration import events, tokens
from apps.registration.models import Invitation


class ConfirmationError(Invalid):
    """A confirmation token that is not valid or was already used."""

    def __init__(self, message):
        super().__init__(message, field="token")


class PasswordResetError(Invalid):
    """A password reset token that is not valid, has expired or was already used."""

    def __init__(self, message):
        super().__init__(message, field="token")


class InvitationError(Invalid):
    """An invitation token that is not valid, expired, already used or revoked; `field`
    names the argument that carried it (`token`, or `invitation_token` at registration)."""


def _site_url(path):
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def user_confirmation_token_make(user) -> str:
    """A signed, expiring, single-use token that activates `user`."""
    return tokens.token_make(user)


def user_confirmation_url(user) -> str:
    """The absolute link (for the confirmation email) to the page that confirms `user`."""
    query = urlencode({"token": user_confirmation_token_make(user)})
    return _site_url(f"{reverse('account-confirm-page')}?{query}")


def user_register(
    *,
    email,
    password,
    unit: Unit | None = None,
    invitation_token="",
    first_name="",
    last_name="",
    phone="",
) -> User | None:
    """Register an inactive resident, or, when the email already has an account, publish
    `user.registration_repeated` instead and change nothing.

    With `unit` (a unit code was given) the new account claims it: a pending residency
    that gives no rights until a manager approves it (None, a code no unit has: the account
    is created and claims nothing, answered the same way). With `invitation_token` the
    invitation is accepted and the residency approved at once. Returns the new user, or
    None when the email was already registered; callers must answer both cases identically
    so nobody learns who is registered (an invalid invitation is refused either way).
    """
    email = User.objects.normalize_email(email).strip().lower()
    if invitation_token:
        # Refuse a bad token before anything else.
        _invitation_for_token(invitation_token, field="invitation_token")
    with transaction.atomic():
        existing = User.objects.filter(email__iexact=email).first()
        if existing is None:
            try:
                with transaction.atomic():
                    user = User(
                        username=email,
                        email=email,
                        first_name=first_name,
                        last_name=last_name,
                        phone=phone,
                        role=Role.RESIDENT,
                        is_active=False,
                    )
                    user.set_password(password)
                    user.save()
                    if invitation_token:
                        invitation_accept(
                            token=invitation_token, user=user, field="invitation_token"
                        )
                    elif unit is not None:
                        Residency.objects.create(
                            resident=user,
                            unit=unit,
                            start_date=local_date(unit.property.time_zone),
                            status=Residency.Status.PENDING,
                        )
            except IntegrityError:
                # Registered concurrently (or the email is someone's username).
                existing = User.objects.filter(email__iexact=email).first() or (
                    User.objects.filter(username__iexact=email).first()
                )
                if existing is None:
                    raise
            else:
                events.user_registered(user)
                return user
        # Spend the same work as a new registration would.
        make_password(password)
        events.user_registration_repeated(existing)
        return None


def user_confirm(*, token) -> User:
    """Activate the account a confirmation token names; a token works once. The managers
    hear of the account's pending claims now, once its address is proven."""
    try:
        user_id, fingerprint = tokens.token_user_id(token)
    except tokens.InvalidToken as exc:
        raise ConfirmationError(str(exc)) from exc
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id).first()
        if user is None or user.is_active or not tokens.token_matches(user, fingerprint):
            raise ConfirmationError("This confirmation link is not valid or was already used.")
        user.is_active = True
        user.save(update_fields=["is_active"])
        for residency in Residency.objects.filter(resident=user, status=Residency.Status.PENDING):
            events.residency_claimed(residency)
    return user


def user_confirmation_send(user_id):
    """Email an inactive user their activation link (the user_registration consumer)."""

    user = User.objects.get(id=user_id)
    if user.is_active:
        return None  # confirmed meanwhile: a late or replayed event sends nothing
    return notification_request(
        channel="email",
        template="account_confirmation",
        category="account",
        user=user,
        variables={
            "name": user.get_full_name() or user.email,
            "confirm_url": user_confirmation_url(user),
        },
    )


def user_account_exists_notice_send(user_id):
    """Tell an address's owner that someone tried to register it again."""

    user = User.objects.get(id=user_id)
    return notification_request(
        channel="email",
        template="account_exists",
        category="account",
        user=user,
        variables={
            "name": user.get_full_name() or user.email,
            "login_url": _site_url("/api/v1/docs/"),
        },
    )


# --- invitations ------------------------------------------------------------------------
def _managed_property_check(user, property_id, noun):
    if not properties_managed_by(user).filter(pk=property_id).exists():
        raise PermissionDenied(f"Only a manager of this property may {noun}.")


def invitation_create(*, by, unit: Unit, email, start_date=None) -> Invitation:
    """Invite `email` to live in `unit` (a manager of its property, or an admin), from
    `start_date` (a planned move-in: today or later) or from the day they accept; the
    invitation email goes out through the queues (invitation.created)."""
    _managed_property_check(by, unit.property_id, "invite residents")
    today = local_date(unit.property.time_zone)
    if start_date is not None and start_date < today:
        raise ValidationError(
            {
                "start_date": [
                    f"A planned move-in cannot be in the past (today is {today} at the property)."
                ]
            }
        )
    email = User.objects.normalize_email(email).strip().lower()
    with transaction.atomic():
        invitation = Invitation(
            unit=unit,
            email=email,
            start_date=start_date,
            invited_by=by,
            nonce=secrets.token_hex(16),
            expires_at=timezone.now() + timedelta(seconds=settings.INVITATION_MAX_AGE),
        )
        invitation.full_clean()
        invitation.save()
        events.invitation_created(invitation)
    return invitation


def invitation_revoke(invitation: Invitation, *, by) -> Invitation:
    _managed_property_check(by, invitation.unit.property_id, "revoke its invitations")
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.status != Invitation.Status.PENDING:
            raise Conflict(
                f"This invitation is {invitation.status}; only a pending one can be revoked. "
                "Allowed: none.",
                status=invitation.status,
                allowed_transitions=[],
            )
        invitation.status = Invitation.Status.REVOKED
        invitation.save(update_fields=["status"])
    return invitation


def invitation_token_make(invitation) -> str:
    return tokens.invitation_token_make(invitation)


def invitation_send(invitation_id):
    """Email an invitation its link (the user_registration consumer of invitation.created)."""
    invitation = Invitation.objects.select_related("unit__property").get(pk=invitation_id)
    if invitation.status != Invitation.Status.PENDING or invitation.expires_at <= timezone.now():
        return None  # revoked, used or expired meanwhile: a late or replayed event sends nothing
    token = invitation_token_make(invitation)
    return notification_request(
        channel="email",
        template="invitation",
        category="account",
        address=invitation.email,
        variables={
            "unit": invitation.unit.code,
            "property": invitation.unit.property.name,
            "token": token,
            "accept_url": _site_url(reverse("swagger-ui")),
            "expires_at": f"{timezone.localtime(invitation.expires_at):%Y-%m-%d %H:%M %Z}",
        },
    )


def _invitation_for_token(token, *, lock=False, field="token") -> Invitation:
    try:
        invitation_id, nonce = tokens.invitation_token_read(token)
    except tokens.InvalidToken as exc:
        raise InvitationError(str(exc), field=field) from exc
    invitations = Invitation.objects.select_related("unit")
    if lock:
        invitations = invitations.select_for_update(of=("self",))
    invitation = invitations.filter(pk=invitation_id).first()
    if (
        invitation is None
        or not secrets.compare_digest(invitation.nonce, nonce)
        or invitation.status != Invitation.Status.PENDING
    ):
        raise InvitationError("This invitation is not valid or was already used.", field=field)
    if invitation.expires_at <= timezone.now():
        raise InvitationError(
            "This invitation has expired; ask your manager for a new one.", field=field
        )
    return invitation


def invitation_accept(*, token, user, field="token") -> Residency:
    """Accept an invitation for `user` (a resident account): it is used up, and `user`
    gets an approved residency in its unit, from the invitation's planned move-in (no
    rights before it: the residency rule) or from today. InvitationError names `field`
    (the request field the token came in)."""
    if user.role != Role.RESIDENT:
        raise InvitationError(
            "Only a resident account can accept an invitation to a unit.", field=field
        )
    with transaction.atomic():
        invitation = _invitation_for_token(token, lock=True, field=field)
        now = timezone.now()
        start_date = invitation.start_date or local_date(invitation.unit.property.time_zone, now)
        residency = Residency.objects.filter(
            resident=user, unit=invitation.unit, status=Residency.Status.PENDING
        ).first() or Residency(resident=user, unit=invitation.unit, start_date=start_date)
        if invitation.start_date is not None:
            residency.start_date = invitation.start_date
        residency.status = Residency.Status.APPROVED
        residency.decided_by, residency.decided_at = invitation.invited_by, now
        residency.save()
        invitation.status = Invitation.Status.ACCEPTED
        invitation.accepted_by, invitation.accepted_at = user, now
        invitation.save(update_fields=["status", "accepted_by", "accepted_at"])
    return residency


# --- residency claims ---------------------------------------------------------------------
def residency_decide(residency: Residency, *, by, approve: bool) -> Residency:
    """Approve or reject a pending claim (a manager of the property, or an admin); the
    resident hears the outcome by email (residency.decided)."""
    _managed_property_check(by, residency.unit.property_id, "decide on its residents")
    target = Residency.Status.APPROVED if approve else Residency.Status.REJECTED
    with transaction.atomic():
        residency = Residency.objects.select_for_update().get(pk=residency.pk)
        if residency.status != Residency.Status.PENDING:
            raise Conflict(
                f"This residency is {residency.status}, not pending: it cannot be "
                f"{target}. Allowed from '{residency.status}': none (final status).",
                status=residency.status,
                allowed_transitions=[],
            )
        residency.status = target
        residency.decided_by, residency.decided_at = by, timezone.now()
        if not approve:
            residency.end_date = max(residency.start_date, residency.decided_at.date())
        residency.save(update_fields=["status", "decided_by", "decided_at", "end_date"])
        events.residency_decided(residency)
    return residency


def residency_claim_notify(residency_id):
    """Tell the property's managers a claim awaits them (the residency.claimed consumer)."""
    residency = Residency.objects.select_related("unit__property", "resident").get(pk=residency_id)
    if residency.status != Residency.Status.PENDING:
        return []  # decided meanwhile
    variables = {
        "resident": residency.resident.get_full_name() or residency.resident.email,
        "email": residency.resident.email,
        "unit": residency.unit.code,
        "property": residency.unit.property.name,
        "review_url": _site_url(
            reverse("admin:properties_residency_changelist") + "?status__exact=pending"
        ),
    }
    managers = staff_for_property(residency.unit.property_id, [Role.MANAGER])
    return [
        notification_request(
            channel=channel,
            template="residency_claimed",
            category="account",
            user=manager,
            variables=variables,
        )
        for manager in managers
        for channel in ("in_app", "email")
    ]


def residency_decision_send(residency_id):
    """Mail the resident the outcome of their claim (the residency.decided consumer)."""
    residency = Residency.objects.select_related("unit__property", "resident").get(pk=residency_id)
    return notification_request(
        channel="email",
        template="residency_decision",
        category="account",
        user=residency.resident,
        variables={
            "name": residency.resident.get_full_name() or residency.resident.email,
            "unit": residency.unit.code,
            "property": residency.unit.property.name,
            "approved": residency.status == Residency.Status.APPROVED,
        },
    )


# --- move-out requests (apps/properties: MOVE_OUT_WORKFLOW) --------------------------------
# In-app always (ignore_preferences), email as each user chose for the category.
MOVE_OUT_CATEGORY = "general"


def _move_out_tell(users, *, template, variables):
    sent = notifications_request_for(
        users,
        channel="in_app",
        template=template,
        category=MOVE_OUT_CATEGORY,
        variables=variables,
        ignore_preferences=True,
    )
    return sent + notifications_request_for(
        users, channel="email", template=template, category=MOVE_OUT_CATEGORY, variables=variables
    )


def _move_out_claim(move_out_id, stamp):
    """Lock the request and stamp it told (None when a copy of the event told already)."""
    move_out = (
        MoveOutRequest.objects.select_for_update()
        .select_related("unit", "property", "resident")
        .get(pk=move_out_id)
    )
    if getattr(move_out, stamp) is not None:
        return None
    setattr(move_out, stamp, timezone.now())
    move_out.save(update_fields=[stamp])
    return move_out


def _move_out_variables(move_out):
    """What the managers' notices of a request say about it."""
    return {
        "move_out": move_out.pk,
        "resident": move_out.resident.get_full_name() or move_out.resident.email,
        "email": move_out.resident.email,
        "unit": move_out.unit.code,
        "property": move_out.property.name,
        "end_date": move_out.end_date.isoformat(),
    }


def move_out_request_notify(move_out_id):
    """Tell the property's managers a move-out request awaits them (the move_out.requested
    consumer): once, however often the event comes; nothing if it was already decided or
    withdrawn."""
    with transaction.atomic():
        move_out = _move_out_claim(move_out_id, "managers_told_at")
        if move_out is None or move_out.status != MoveOutStatus.REQUESTED:
            return []
        managers = staff_for_property(move_out.property_id, [Role.MANAGER])
        return _move_out_tell(
            managers,
            template="move_out_requested_staff",
            variables={
                **_move_out_variables(move_out),
                "note": move_out.note,
                "review_url": _site_url(
                    reverse("admin:properties_moveoutrequest_change", args=[move_out.pk])
                ),
            },
        )


def move_out_withdrawal_notify(move_out_id):
    """Tell the managers who were told a move-out request awaited them (its
    move_out_requested_staff notice) that the resident withdrew it (the move_out.withdrawn
    consumer): once, however often the event comes; no one if none was told.

    The move_out.requested consumer may run before this, after it or at the same time:
    both lock the request's row first, so whichever runs second sees what the first
    committed (under READ COMMITTED each statement after the lock wait reads it).
    Telling first, the other created its notices and stamped `managers_told_at`, which
    this reads: those managers are told. This first, it finds `managers_told_at` unset
    and tells no one, and the other then finds the request withdrawn (it was before this
    event was published) and tells no one either."""
    with transaction.atomic():
        move_out = _move_out_claim(move_out_id, "withdrawal_told_at")
        if (
            move_out is None
            or move_out.status != MoveOutStatus.WITHDRAWN
            or move_out.managers_told_at is None
        ):
            return []
        # The notices were created after the stamp, by the same process, in its
        # transaction: the stamp bounds the search.
        told = users_notified(
            "move_out_requested_staff",
            variables={"move_out": move_out.pk},
            since=move_out.managers_told_at,
        )
        return _move_out_tell(
            list(told),
            template="move_out_withdrawn_staff",
            variables=_move_out_variables(move_out),
        )


def move_out_decision_send(move_out_id):
    """Tell the resident a manager approved their move-out (with the last day) or rejected
    it (with the manager's note): the move_out.decided consumer, once per request."""
    with transaction.atomic():
        move_out = _move_out_claim(move_out_id, "resident_told_at")
        if move_out is None or move_out.status not in (
            MoveOutStatus.APPROVED,
            MoveOutStatus.REJECTED,
        ):
            return []
        decision = move_out.history.filter(to_status=move_out.status).last()
        return _move_out_tell(
            [move_out.resident],
            template="move_out_decision_resident",
            variables={
                "move_out": move_out.pk,
                "name": move_out.resident.get_full_name() or move_out.resident.email,
                "unit": move_out.unit.code,
                "property": move_out.property.name,
                "approved": move_out.status == MoveOutStatus.APPROVED,
                "end_date": move_out.end_date.isoformat(),
                "note": decision.note if decision else "",
            },
        )


# --- password reset -------------------------------------------------------------------------
def password_reset_request(*, email):
    """Publish user.password_reset_requested for an active account with this address; do
    nothing otherwise. Callers answer both cases the same."""
    user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
    if user is not None and user.has_usable_password():
        events.user_password_reset_requested(user)
    return user


def password_reset_link(user) -> tuple[str, str]:
    """(uid, token) for a single-use reset link: the token is Django's, so it expires after
    PASSWORD_RESET_TIMEOUT and stops working once the password (or last login) changes."""
    return urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)


def password_reset_send(user_id):
    """Email the reset link (the user_registration consumer)."""
    user = User.objects.get(pk=user_id)
    if not user.is_active:
        return None
    uid, token = password_reset_link(user)
    return notification_request(
        channel="email",
        template="password_reset",
        category="account",
        user=user,
        variables={
            "name": user.get_full_name() or user.email,
            "uid": uid,
            "token": token,
            "reset_url": _site_url(reverse("password-reset-page", args=[uid, token])),
        },
    )


def password_reset_confirm(*, uid, token, new_password) -> User:
    """Set a new password with a reset link's uid and token; the token then stops working
    (it is bound to the password hash) and every API token of the account is revoked."""
    try:
        user_id = int(urlsafe_base64_decode(uid).decode())
    except (ValueError, TypeError, UnicodeDecodeError):
        user_id = None
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id else None
    if user is None or not default_token_generator.check_token(user, token):
        raise PasswordResetError(
            "This password reset link is not valid, has expired or was already used."
        )
    return user_password_set(user, new_password)
