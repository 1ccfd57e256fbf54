"""Managers keep their properties' amenities and closures here, and work the bookings: a
day list (today by default, this week, upcoming) with the local times, and approve,
reject, no-show and cancel steps calling the same service as the API."""

from django.contrib import admin
from django.db.models import Q
from django.utils import timezone

from apps.amenities import services
from apps.amenities.models import Amenity, AmenityClosure, Reservation, ReservationStatusChange
from apps.amenities.selectors import amenity_zone
from apps.core.admin import (
    AdminDeletesMixin,
    ApiFiledAdminMixin,
    DefaultChoiceFilter,
    NoteForm,
    ScopedAdminMixin,
    StatusChangeInline,
    WorkflowAdminMixin,
    WorkflowStep,
)
from apps.core.local_time import property_today_q
from apps.core.workflow import STAFF

S = services.S


@admin.register(Amenity)
class AmenityAdmin(AdminDeletesMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "kind",
        "property",
        "opens_at",
        "closes_at",
        "slot_minutes",
        "capacity",
        "needs_approval",
        "is_active",
    )
    list_filter = ("kind", "needs_approval", "is_active", "property")
    search_fields = ("name", "property__name")
    list_select_related = ("property",)
    property_path = "property"
    area = services.AREA

    def save_model(self, request, obj, form, change):
        services.amenity_save(user=request.user, amenity=obj)


@admin.register(AmenityClosure)
class AmenityClosureAdmin(AdminDeletesMixin, ScopedAdminMixin, admin.ModelAdmin):
    """Announcing a closure cancels the bookings it covers (the amenities worker) and
    tells each resident once; a closure is not edited afterwards."""

    list_display = ("amenity", "starts_on", "ends_on", "reason", "created_by", "created_at")
    list_filter = ("amenity",)
    fields = ("amenity", "starts_on", "ends_on", "reason")
    property_path = "amenity__property"
    area = services.AREA

    def save_model(self, request, obj, form, change):
        closure = services.amenity_closure_announce(
            user=request.user,
            amenity=obj.amenity,
            starts_on=obj.starts_on,
            ends_on=obj.ends_on,
            reason=obj.reason,
        )
        obj.pk = closure.pk

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)


class ReservationStatusChangeInline(StatusChangeInline):
    model = ReservationStatusChange


class WhenFilter(DefaultChoiceFilter):
    title = "when"
    parameter_name = "when"
    default = "today"
    choices_q = {
        "today": ("Today", lambda: property_today_q("starts_at")),
        "week": ("This week", lambda: property_today_q("starts_at", period="week")),
        "upcoming": ("Upcoming", lambda: Q(starts_at__gte=timezone.now())),
        "all": ("All", lambda: None),
    }


def _step(to_status, label, form=None):
    def run(reservation, user, note=""):
        return services.reservation_transition(
            reservation=reservation, to_status=to_status, user=user, note=note
        )

    return WorkflowStep(
        name=to_status,
        label=label,
        run=run,
        form=form,
        available=lambda r: to_status in services.RESERVATION_WORKFLOW.allowed(r.status, STAFF),
    )


@admin.register(Reservation)
class ReservationAdmin(ApiFiledAdminMixin, WorkflowAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("day", "time", "amenity", "resident", "unit", "status")
    list_display_links = ("day", "time")
    list_filter = (WhenFilter, "status", "amenity", "property")
    search_fields = ("=id", "resident__username", "resident__email", "unit__code", "amenity__name")
    date_hierarchy = "starts_at"
    list_select_related = ("amenity__property", "resident", "unit")
    ordering = ("starts_at", "amenity__name")
    inlines = [ReservationStatusChangeInline]
    workflow_steps = (
        _step(S.APPROVED, "Approve"),
        _step(S.REJECTED, "Reject", NoteForm),
        _step(S.NO_SHOW, "Mark no-show"),
        _step(S.COMPLETED, "Mark completed"),
        _step(S.CANCELLED, "Cancel", NoteForm),
    )
    property_path = "property"
    area = services.AREA

    @admin.display(description="day", ordering="starts_at")
    def day(self, reservation):
        return f"{reservation.starts_at.astimezone(amenity_zone(reservation.amenity)):%a %d %b}"

    @admin.display(description="time (local)")
    def time(self, reservation):
        zone = amenity_zone(reservation.amenity)
        return (
            f"{reservation.starts_at.astimezone(zone):%H:%M}–"
            f"{reservation.ends_at.astimezone(zone):%H:%M}"
        )
