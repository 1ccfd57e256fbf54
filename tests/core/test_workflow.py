"""The workflow engine's pure logic (tables, guards, messages) on a made-up workflow; the
repairs, complaints and visitors tests run it against the database."""

from dataclasses import replace
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied
from django.db import models

from apps.core.errors import Conflict
from apps.core.workflow import RESIDENT, STAFF, Guard, Workflow


class Door(models.TextChoices):
    SHUT = "shut"
    OPEN = "open"
    LOCKED = "locked"


DOOR = Workflow(
    model=None,
    noun="door",
    statuses=Door,
    transitions={
        (Door.SHUT, Door.OPEN): {RESIDENT, STAFF},
        (Door.SHUT, Door.LOCKED): {STAFF},
        (Door.OPEN, Door.SHUT): {RESIDENT},
    },
    actor_of=lambda user: user.actor,
    guards={Door.LOCKED: Guard(allows=lambda door, now: door.key, reason="No key.")},
)


def door(status, key=True, version=1, resident_id=1):
    return SimpleNamespace(status=status, key=key, version=version, resident_id=resident_id)


def test_allowed_steps_follow_the_table_in_status_order():
    assert DOOR.allowed(Door.SHUT) == ["open", "locked"]
    assert DOOR.allowed(Door.SHUT, RESIDENT) == ["open"]
    assert DOOR.allowed(Door.LOCKED) == []
    assert DOOR.targets_of(RESIDENT) == ["shut", "open"]


def test_a_guard_hides_a_step_it_refuses_now():
    assert DOOR.allowed_now(door(Door.SHUT, key=False), STAFF) == ["open"]
    assert DOOR.allowed_now(door(Door.SHUT, key=True), STAFF) == ["open", "locked"]


def test_a_resident_acts_only_on_their_own():
    mine, theirs = door(Door.SHUT, resident_id=1), door(Door.SHUT, resident_id=2)
    user = SimpleNamespace(pk=1, actor=RESIDENT)
    assert DOOR.allowed_for_user(mine, user) == ["open"]
    assert DOOR.allowed_for_user(theirs, user) == []
    assert DOOR.allowed_for_user(mine, SimpleNamespace(pk=1, actor=None)) == []


def test_a_step_applies_status_and_version():
    obj = door(Door.SHUT)
    assert DOOR.step(obj, Door.OPEN, actor=RESIDENT, expected_version=1) == "shut"
    assert (obj.status, obj.version) == ("open", 2)


def test_an_illegal_step_is_a_conflict_naming_the_allowed_ones_and_who():
    with pytest.raises(Conflict) as caught:
        DOOR.step(door(Door.OPEN), Door.LOCKED, actor=STAFF)
    assert str(caught.value) == (
        "A door cannot go from 'open' to 'locked'. Allowed from 'open': shut (by resident)."
    )
    assert caught.value.extra == {"status": "open", "allowed_transitions": ["shut"]}


def test_a_guarded_step_is_a_conflict_with_its_reason_and_changes_nothing():
    obj = door(Door.SHUT, key=False)
    with pytest.raises(Conflict, match="^No key. Allowed from 'shut': open"):
        DOOR.step(obj, Door.LOCKED, actor=STAFF)
    assert (obj.status, obj.version) == ("shut", 1)


def test_a_stale_version_is_a_conflict_naming_the_current_one():
    with pytest.raises(Conflict) as caught:
        DOOR.step(door(Door.SHUT, version=3), Door.OPEN, actor=STAFF, expected_version=2)
    assert caught.value.extra == {"version": 3}


def test_an_actor_outside_the_step_is_refused():
    with pytest.raises(PermissionDenied):
        DOOR.step(door(Door.SHUT), Door.LOCKED, actor=RESIDENT)


def test_a_role_is_refused_a_status_it_never_moves_to_with_the_ones_it_may():
    assert DOOR.authorize_target(RESIDENT, Door.OPEN) == RESIDENT
    with pytest.raises(PermissionDenied) as caught:
        DOOR.authorize_target(RESIDENT, Door.LOCKED)
    assert str(caught.value) == (
        "Residents may never move a door to 'locked'; residents may move them to: shut, open."
    )
    wardens = replace(DOOR, staff_name="wardens")
    with pytest.raises(PermissionDenied, match="^Wardens may never move a door to 'shut'; "):
        wardens.authorize_target(STAFF, Door.SHUT)
