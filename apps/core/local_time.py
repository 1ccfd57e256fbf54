"""A property's own calendar. "Today" for a residency, a move or a desk is the
building's, in its time zone (`Property.time_zone`), not the server's. In queries one
expression covers properties in several zones: PostgreSQL's timezone(zone, moment) gives
the wall-clock time at the property."""

import datetime
import zoneinfo

from django.db.models import DateField, DateTimeField, F, Func, Q, Value
from django.db.models.functions import Now
from django.db.models.lookups import Exact
from django.utils import timezone

# A property's day is never further than this from the server's clock (UTC-12 to UTC+14,
# plus a day): a range on the indexed column first, the wall clock on what is left.
ZONE_REACH = datetime.timedelta(hours=14 + 24)


class LocalDay(Func):
    """The date at the property of `moment`, or the first day (Monday) of its week."""

    output_field = DateField()

    def __init__(self, moment, zone_field, *, period="day"):
        self.template = {
            "day": "(timezone(%(expressions)s))::date",
            "week": "date_trunc('week', timezone(%(expressions)s))::date",
        }[period]
        super().__init__(F(zone_field), moment)


def local_date(zone_name, now=None):
    """The date of `now` (default: now) at the IANA zone `zone_name`."""
    return timezone.localtime(now or timezone.now(), zoneinfo.ZoneInfo(zone_name)).date()


def property_today(zone_field, now=None):
    """In a query: the date of `now` (default: the statement's) at each row's property."""
    moment = Now() if now is None else Value(now, output_field=DateTimeField())
    return LocalDay(moment, zone_field)


def property_today_q(field, *, zone_field="property__time_zone", period="day"):
    """`field` (a moment) falls on the property's current day, or in its current week."""
    days = 7 if period == "week" else 1
    now = timezone.now()
    near = Q(**{f"{field}__gt": now - ZONE_REACH * days, f"{field}__lt": now + ZONE_REACH * days})
    same = Exact(
        LocalDay(F(field), zone_field, period=period), LocalDay(Now(), zone_field, period=period)
    )
    return near & Q(same)
