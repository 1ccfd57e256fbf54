"""Reads of the properties app, and the scoping every other app builds on.

Who sees what: a resident sees their own (current) unit; staff see the properties they
are assigned to, and only in the areas their role covers; managers everything in their
properties; admins everything.
"""

import datetime
import zoneinfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q

from apps.accounts.models import Role
from apps.core.local_time import property_today
from apps.core.roles import user_is_admin
from apps.core.workflow import RESIDENT, STAFF
from apps.properties.models import MoveOutRequest, Property, Residency, StaffAssignment, Unit

# Which staff roles work in which area of the product (managers and admins: all).
AREA_ROLES = {
    "visitors": {Role.SECURITY},
    "repairs": {Role.MAINTENANCE},
    "assets": {Role.MAINTENANCE},
    "complaints": {Role.CUSTOMER_SERVICE},
    # Parcels at the front desk: security keeps the desk.
    "front_desk": {Role.SECURITY},
    # Managers only: admitting residents, assigning staff, announcing.
    "management": set(),
}


def residencies_in_force(today=None):
    """The residency rule: residencies that give rights on `today` (default: today at
    each one's property, in its time zone) are approved, started and not ended. Every
    right, recipient list and scope that follows from living in a unit is read through
    this (a pending or rejected claim gives none);
    tests/architecture/test_residency_rule.py keeps other modules from filtering
    residencies by hand."""
    if today is None:
        today = property_today("unit__property__time_zone")
    return Residency.objects.filter(
        Q(end_date__isnull=True) | Q(end_date__gte=today),
        status=Residency.Status.APPROVED,
        start_date__lte=today,
    )


def residencies_moved(move, start, end, property_ids=None):
    """(residency id, property id, when) of the move-ins (`move` "started") or move-outs
    ("ended") the move job stamped in [start, end): the reports' source rows."""
    stamp = f"{move}_at"
    moved = Residency.objects.filter(**{f"{stamp}__gte": start, f"{stamp}__lt": end})
    if property_ids is not None:
        moved = moved.filter(unit__property_id__in=property_ids)
    return moved.values_list("pk", "unit__property_id", stamp)


def current_residencies(user):
    return residencies_in_force().filter(resident=user)


def unit_current_residencies(unit):
    """The residencies of a unit in force today, oldest first."""
    return (
        residencies_in_force()
        .filter(unit=unit)
        .select_related("resident")
        .order_by("start_date", "id")
    )


def resident_unit_ids(user):
    return list(current_residencies(user).values_list("unit_id", flat=True))


def resident_current_unit(user):
    residency = current_residencies(user).select_related("unit__property").first()
    return residency.unit if residency else None


def staff_property_ids(user, area=None):
    """Properties where `user` works in `area` (any area when None); managers cover all."""
    assignments = StaffAssignment.objects.filter(staff=user)
    if area is not None:
        assignments = assignments.filter(role__in={Role.MANAGER, *AREA_ROLES[area]})
    return list(assignments.values_list("property_id", flat=True).distinct())


def user_can_work_in(user, area):
    """Whether the user's role may ever act in `area` (independent of properties)."""
    return user_is_admin(user) or user.role in {Role.MANAGER, *AREA_ROLES[area]}


def workflow_actor(user, area):
    """Who `user` is in the workflow of `area` (repairs, complaints): STAFF (its staff
    role, managers, admins), RESIDENT, or None for a role that never acts there."""
    if user_is_admin(user):
        return STAFF
    if user.role == Role.RESIDENT:
        return RESIDENT
    if user_can_work_in(user, area):
        return STAFF
    return None


def workflow_actor_required(user, area, *allowed, message=""):
    """workflow_actor(), refused with PermissionDenied for a role that never acts in `area`
    or (with `message`) is not one of `allowed`."""
    actor = workflow_actor(user, area)
    if actor is None:
        raise PermissionDenied(f"Your role does not work on {area}.")
    if allowed and actor not in allowed:
        raise PermissionDenied(message)
    return actor


def workflow_access_check(obj, user, actor, area):
    """Raise PermissionDenied unless `user` may act on `obj`: a resident on their own while
    they live in its unit (a former resident only reads what they filed: scope_to_user),
    staff at the properties where they work in `area` (the API's scoping gives 404 first)."""
    noun = obj._meta.verbose_name
    if actor == RESIDENT and obj.resident_id != user.pk:
        raise PermissionDenied(f"Only the resident who filed this {noun} may do that.")
    if actor == RESIDENT and not current_residencies(user).filter(unit_id=obj.unit_id).exists():
        raise PermissionDenied(
            f"You no longer live in this {noun}'s unit: you may read it, no longer act on it."
        )
    mine = scope_to_user(type(obj).objects.filter(pk=obj.pk), user, area)
    if actor == STAFF and not mine.exists():
        raise PermissionDenied(f"You do not work on {area} at this property.")


def resident_unit_for(resident, unit, *, missing, foreign):
    """The unit a resident files for: `unit` if they live there now (else ValidationError
    `foreign`), or their current unit when None (else ValidationError `missing`)."""
    if unit is None:
        unit = resident_current_unit(resident)
        if unit is None:
            raise ValidationError({"unit": [missing]})
    elif not current_residencies(resident).filter(unit=unit).exists():
        raise ValidationError({"unit": [foreign]})
    return unit


def properties_visible_to(user):
    if not user.is_authenticated:
        return Property.objects.none()
    if user_is_admin(user):
        return Property.objects.all()
    if user.role == Role.RESIDENT:
        return Property.objects.filter(units__id__in=resident_unit_ids(user)).distinct()
    return Property.objects.filter(id__in=staff_property_ids(user))


def properties_managed_by(user):
    """Properties whose residents `user` admits: those they manage (admins: all)."""
    if not user.is_authenticated:
        return Property.objects.none()
    if user_is_admin(user):
        return Property.objects.all()
    return Property.objects.filter(assignments__staff=user, assignments__role=Role.MANAGER)


def units_managed_by(user):
    """Units of the properties `user` manages (admins: all)."""
    return Unit.objects.filter(property__in=properties_managed_by(user))


def properties_for_area(user, area):
    """Properties where `user` may act in `area` as staff (admins: all; residents: none)."""
    if user_is_admin(user):
        return Property.objects.all()
    if user.role == Role.RESIDENT or not user_can_work_in(user, area):
        return Property.objects.none()
    return Property.objects.filter(id__in=staff_property_ids(user, area))


def properties_in_area(user, area=None):
    """properties_for_area(), or with no area every property `user` sees: the admin's
    scope (settings.ADMIN_PROPERTY_SCOPE, apps/core/admin.py)."""
    return properties_visible_to(user) if area is None else properties_for_area(user, area)


def units_for_area(user, area):
    """Units of the properties where `user` may act in `area` as staff."""
    return Unit.objects.filter(property__in=properties_for_area(user, area))


def residents_for_area(user, area):
    """The residents (in force) of the units where `user` may act in `area` as staff."""
    from apps.accounts.models import User

    residents = residencies_in_force().filter(unit__in=units_for_area(user, area))
    return User.objects.filter(pk__in=residents.values("resident_id"))


def units_visible_to(user):
    if not user.is_authenticated:
        return Unit.objects.none()
    if user_is_admin(user):
        return Unit.objects.all()
    if user.role == Role.RESIDENT:
        # A subquery, not resident_unit_ids(): choosing one unit (a ScopedIdField) is
        # then one query, not two.
        return Unit.objects.filter(id__in=current_residencies(user).values("unit_id"))
    return Unit.objects.filter(property_id__in=staff_property_ids(user))


def scope_to_user(
    queryset, user, area, *, property_field="property", unit_field="unit", filed_by_field=None
):
    """Limit a queryset of objects that belong to a property/unit to what `user` may see.

    Residents see their own unit's objects, and with `filed_by_field` (the resident who
    filed it: repairs, complaints) also what they filed whatever their residency: after a
    move-out it stays theirs to read, while workflow_access_check refuses acting on it.
    Staff see the objects of their properties when their role covers `area`; anyone else
    nothing.
    """
    if not user.is_authenticated:
        return queryset.none()
    if user_is_admin(user):
        return queryset
    if user.role == Role.RESIDENT:
        theirs = Q(**{f"{unit_field}_id__in": resident_unit_ids(user)})
        if filed_by_field is not None:
            theirs |= Q(**{filed_by_field: user})
        return queryset.filter(theirs)
    if not user_can_work_in(user, area):
        return queryset.none()
    return queryset.filter(**{f"{property_field}_id__in": staff_property_ids(user, area)})


def users_reachable_by(user):
    """The users `user` may address (e.g. send a notification to): themselves, and the
    residents (approved) and staff of the properties they see; admins everyone."""
    from apps.accounts.models import User

    if user_is_admin(user):
        return User.objects.all()
    visible = properties_visible_to(user)
    residents = residencies_in_force().filter(unit__property__in=visible).values("resident_id")
    staff = StaffAssignment.objects.filter(property__in=visible).values("staff_id")
    return User.objects.filter(Q(pk=user.pk) | Q(pk__in=residents) | Q(pk__in=staff))


def staff_for_property(property_id, roles, *, on_duty_only=False):
    """Users assigned to a property in one of `roles` (e.g. who to tell about a repair)."""
    from apps.accounts.models import User

    assignments = StaffAssignment.objects.filter(property_id=property_id, role__in=roles)
    if on_duty_only:
        assignments = assignments.filter(on_duty=True)
    return User.objects.filter(
        id__in=assignments.values_list("staff_id", flat=True), is_active=True
    ).order_by("id")


def quiet_hours_end(prop, now):
    """When the property's quiet hours end, if `now` is inside them (else None): email and
    SMS that are not emergencies wait until then (announcements, the front desk)."""
    local = now.astimezone(zoneinfo.ZoneInfo(prop.time_zone))
    start, end, time = prop.quiet_hours_start, prop.quiet_hours_end, local.time()
    if start == end:
        return None
    inside = (start <= time or time < end) if start > end else (start <= time < end)
    if not inside:
        return None
    end_day = local.date() if time < end else local.date() + datetime.timedelta(days=1)
    naive = datetime.datetime.combine(end_day, end)
    return naive.replace(tzinfo=local.tzinfo).astimezone(datetime.UTC)


def move_out_requests_visible_to(user):
    """A resident's own move-out requests (a flatmate's are not theirs); the requests of
    the properties a manager manages; admins all."""
    requests = MoveOutRequest.objects.select_related("unit", "resident")
    if user.is_authenticated and user.role == Role.RESIDENT and not user_is_admin(user):
        return requests.filter(resident=user)
    return scope_to_user(requests, user, "management")


def move_out_history(request):
    return request.history.select_related("changed_by").order_by("changed_at", "id")
