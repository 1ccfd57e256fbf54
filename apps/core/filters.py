"""Filter pieces every API list shares."""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, normalised to UTC.

    PostgreSQL rejects offsets beyond ±15:59 that Python accepts (e.g. `-16:01`), and a
    date near year 1 or 9999 can leave the calendar once its offset is applied: both
    must be a 400, never a database error.
    """

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None or parsed.tzinfo is None:
            return parsed
        try:
            return parsed.astimezone(datetime.UTC)
        except OverflowError:
            raise ValidationError("Enter a date/time between years 1 and 9999.") from None


class IsoDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class IdFilter(filters.NumberFilter):
    """A related object by its id, as a plain integer filtering the (already scoped) list.

    An id the caller may not see — another property's, one that does not exist — filters
    to nothing, like any id none of the visible rows has: the answer never tells which ids
    exist. (django-filter's default, a choice among every row of the related table,
    answered 400 for an id that does not exist and 200 [] for another property's.)"""

    field_class = forms.IntegerField


class FilterSet(filters.FilterSet):
    """Every API filter set: date-times in UTC, related objects by IdFilter."""

    FILTER_DEFAULTS = {
        **filters.FilterSet.FILTER_DEFAULTS,
        models.DateTimeField: {"filter_class": IsoDateTimeFilter},
        models.ForeignKey: {"filter_class": IdFilter},
        models.OneToOneField: {"filter_class": IdFilter},
        models.ManyToManyField: {"filter_class": IdFilter},
    }


class FilterBackend(filters.DjangoFilterBackend):
    """DRF's filter backend, building `filterset_fields` filters on our FilterSet."""

    filterset_base = FilterSet
