"""Report periods: a day, a week (from Monday) or a month, named by their first day."""

from datetime import timedelta

SPANS = ("day", "week", "month")


def period_start(day, span):
    if span == "week":
        return day - timedelta(days=day.weekday())
    if span == "month":
        return day.replace(day=1)
    return day


def period_next(start, span):
    if span == "month":
        return (start + timedelta(days=32)).replace(day=1)
    return start + timedelta(days=7 if span == "week" else 1)


def periods(date_from, date_to, span):
    """The starts of the periods that overlap date_from..date_to, in order."""
    starts, day = [], period_start(date_from, span)
    while day <= date_to:
        starts.append(day)
        day = period_next(day, span)
    return starts
