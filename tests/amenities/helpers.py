import datetime
import zoneinfo

from apps.amenities.models import Amenity

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def amenity(prop, **fields):
    defaults = {
        "name": "Party room",
        "kind": "party_room",
        "opens_at": datetime.time(8),
        "closes_at": datetime.time(22),
        "slot_minutes": 60,
        "max_booking_minutes": 180,
        "capacity": 1,
        "booking_horizon_days": 60,
    }
    return Amenity.objects.create(property=prop, **{**defaults, **fields})


def local(day, hour, minute=0, zone=PARIS):
    """An aware instant: `day` at hour:minute on the wall clock of `zone`."""
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=zone)


def days_ahead(n):
    return datetime.datetime.now(PARIS).date() + datetime.timedelta(days=n)
