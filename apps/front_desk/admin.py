"""The front desk (security, and managers) works parcels here: log arrivals with a barcode
scanner (one tracking number a line, several parcels for one resident in one step), hand
them over with the resident's pickup code or to a person they authorised, return them to
the sender. Every change goes through the front desk services, as in the API."""

from django import forms
from django.contrib import admin
from django.db.models import Q
from django.urls import reverse

from apps.core.admin import (
    DefaultChoiceFilter,
    DeskLoggedAdminMixin,
    NoteForm,
    ScopedAdminMixin,
    StatusChangeInline,
    WorkflowAdminMixin,
    WorkflowStep,
    counted,
)
from apps.core.errors import Invalid
from apps.front_desk import services
from apps.front_desk.models import (
    PICKUP_CODE_LENGTH,
    Parcel,
    ParcelStatus,
    ParcelStatusChange,
    tracking_number_validator,
)
from apps.properties.selectors import residents_for_area

S = ParcelStatus


class ParcelStatusChangeInline(StatusChangeInline):
    model = ParcelStatusChange


class ParcelStateFilter(DefaultChoiceFilter):
    title = "state"
    parameter_name = "state"
    default = "waiting"
    choices_q = {
        "waiting": ("Waiting at the desk", lambda: Q(status=S.WAITING)),
        "all": ("All", lambda: None),
    }


class ParcelLogForm(forms.ModelForm):
    """Parcels that arrived for one resident: the scanner fills the tracking numbers box,
    one number a line (its Enter starts the next line)."""

    tracking_numbers = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 40, "autofocus": True}),
        help_text="Scan each parcel's barcode: one tracking number a line, one parcel each.",
    )
    by = None  # the user logging, set by ParcelAdmin.get_form

    class Meta:
        model = Parcel
        fields = (
            "tracking_numbers",
            "unit",
            "resident",
            "carrier",
            "size",
            "storage_location",
            "note",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resident"].required = False
        self.fields["resident"].help_text = "Leave empty for the unit's resident."

    def clean_tracking_numbers(self):
        numbers = self.cleaned_data["tracking_numbers"].split()
        for number in numbers:
            if len(number) > Parcel._meta.get_field("tracking_number").max_length:
                raise forms.ValidationError(f"Too long to be a tracking number: {number[:20]}…")
            tracking_number_validator(number)
        return numbers

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            data["resident"], data["tracking_numbers"] = services.parcels_log_check(
                by=self.by,
                unit=data["unit"],
                tracking_numbers=data["tracking_numbers"],
                resident=data.get("resident"),
            )
        except Invalid as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        return data


class PickUpForm(forms.Form):
    code = forms.CharField(
        required=False,
        max_length=PICKUP_CODE_LENGTH,
        label="Pickup code",
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
        help_text="The code the resident was sent.",
    )
    collected_by = forms.CharField(
        required=False,
        max_length=200,
        label="Or: collected by",
        help_text="A person the resident authorised (say how in the note).",
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 60}))


def _step(to_status, label, run, form):
    return WorkflowStep(
        name=to_status,
        label=label,
        run=run,
        form=form,
        available=lambda parcel: to_status in services.PARCEL_WORKFLOW.allowed(parcel.status),
    )


@admin.register(Parcel)
class ParcelAdmin(DeskLoggedAdminMixin, WorkflowAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "tracking_number",
        "carrier",
        "unit",
        "resident",
        "size",
        "storage_location",
        "status",
        "recipient_moved_out",
        "created_at",
        "picked_up_at",
    )
    list_display_links = ("id", "tracking_number")
    list_filter = (
        ParcelStateFilter,
        "status",
        "recipient_moved_out",
        "carrier",
        "size",
        "property",
    )
    search_fields = (
        "=id",
        "tracking_number",
        "unit__code",
        "resident__username",
        "resident__email",
        "resident__last_name",
        "storage_location",
    )
    date_hierarchy = "created_at"
    list_select_related = ("unit", "resident")
    ordering = ("created_at",)  # the oldest waiting first
    inlines = [ParcelStatusChangeInline]
    workflow_steps = (
        _step(
            S.PICKED_UP,
            "Hand over",
            lambda parcel, user, **data: services.parcel_pick_up(parcel=parcel, by=user, **data),
            PickUpForm,
        ),
        _step(
            S.RETURNED,
            "Return to sender",
            lambda parcel, user, note="": services.parcel_return(parcel=parcel, by=user, note=note),
            NoteForm,
        ),
    )

    property_path = "property"
    area = services.AREA

    class Media:
        js = ("front_desk/scanner.js",)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "resident":
            kwargs["queryset"] = residents_for_area(request.user, self.area).order_by(
                "last_name", "first_name"
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # Adding here logs arrivals (services.parcels_log); a parcel then changes only by
    # its workflow steps.
    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = type("ParcelLogForm", (ParcelLogForm,), {"by": request.user})
            kwargs["fields"] = ParcelLogForm.Meta.fields
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ParcelLogForm.Meta.fields if obj is None else super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return [f.name for f in self.model._meta.fields if f.name != "pickup_code"]

    def get_exclude(self, request, obj=None):
        return () if obj is None else ("pickup_code",)  # the resident's, not the desk's

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        parcels = services.parcels_log(
            by=request.user,
            unit=data["unit"],
            resident=data["resident"],
            carrier=data["carrier"],
            tracking_numbers=data["tracking_numbers"],
            size=data["size"],
            storage_location=data["storage_location"],
            note=data["note"],
        )
        obj.pk = parcels[0].pk
        self.message_user(
            request,
            f"{counted(len(parcels), 'parcel')} logged for {parcels[0].resident}; "
            "they are told with their pickup code.",
        )

    def add_view(self, request, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "title": "Log arriving parcels"}
        return super().add_view(request, form_url, extra_context)

    def index_summary(self, request):
        waiting = self.get_queryset(request).filter(status=S.WAITING).count()
        url = reverse("admin:front_desk_parcel_changelist", current_app=self.admin_site.name)
        return [(f"{counted(waiting, 'parcel')} waiting at the desk", url)]
