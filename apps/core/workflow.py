"""The workflow engine of repairs, complaints and visitors.

An app declares its workflow once: a transition table {(from, to): actors who may take that
step}, optional guards (a step allowed by the table but not right now, e.g. a reopen window)
and the model that keeps its history. The engine answers which steps are allowed, takes a
versioned step under a row lock, and raises Conflict naming the allowed steps otherwise.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.utils import timezone

from apps.core.errors import Conflict
from apps.core.validators import NOTE_MAX_LENGTH, text_field

# Who may take a step. Apps map a user to one of these (or None: the role never acts).
STAFF = "staff"
RESIDENT = "resident"
ANYONE = "anyone"  # in a table: any actor may take the step; as step()'s default: none named


@dataclass(frozen=True)
class Guard:
    """A step the table allows that `allows(obj, now)` may still refuse, with the reason."""

    allows: object
    reason: str


@dataclass(frozen=True)
class Workflow:
    model: type[models.Model]  # a WorkflowModel
    noun: str
    statuses: type[models.TextChoices]
    transitions: dict
    actor_of: object  # user -> STAFF, RESIDENT (or another actor), or None: never acts
    guards: dict = field(default_factory=dict)  # to status -> Guard
    # Workflows whose steps are actions (check in, cancel) name them in messages.
    action_labels: dict = field(default_factory=dict)  # to status -> action
    staff_name: str = "staff"  # who STAFF are in messages (e.g. "managers")

    def _ordered(self, statuses):
        order = list(self.statuses.values)
        return sorted(set(statuses), key=order.index)

    def allowed(self, status, actor=None):
        """Statuses the table allows from `status` (to `actor` when given), in workflow order."""
        return self._ordered(
            to
            for (frm, to), actors in self.transitions.items()
            if frm == status and (actor is None or actor in actors or ANYONE in actors)
        )

    def allowed_now(self, obj, actor=None, now=None):
        """Like allowed(), without the steps a guard refuses for `obj` right now."""
        now = now or timezone.now()
        return [
            to
            for to in self.allowed(obj.status, actor)
            if to not in self.guards or self.guards[to].allows(obj, now)
        ]

    def allowed_for_user(self, obj, user):
        """The steps `user` may take on `obj` now (a resident only on their own)."""
        actor = self.actor_of(user)
        if actor is None or (actor == RESIDENT and obj.resident_id != user.pk):
            return []
        return self.allowed_now(obj, actor)

    def targets_of(self, actor):
        """Every status `actor` can ever move an object to."""
        return self._ordered(to for (_, to), actors in self.transitions.items() if actor in actors)

    def authorize_target(self, actor, to_status):
        """Raise PermissionDenied when `actor` may never move an object to `to_status`,
        whatever its status (the API's 403 before any object is looked up), naming the
        statuses it may; returns `actor`."""
        targets = self.targets_of(actor)
        if to_status not in targets:
            who = {STAFF: self.staff_name, RESIDENT: "residents"}.get(actor, actor)
            raise PermissionDenied(
                f"{who.capitalize()} may never move a {self.noun} to '{to_status}'; "
                f"{who} may move them to: {', '.join(targets) or 'none'}."
            )
        return actor

    def describe(self, from_status, targets):
        """e.g. "acknowledged (by staff), cancelled (by resident)"; actors are named only
        when the workflow has more than one kind."""
        if self.action_labels:
            return ", ".join(self.action_labels[to] for to in targets) or "none"
        if not targets:
            return "none (final status)"
        kinds = set().union(*self.transitions.values())
        if len(kinds) == 1:
            return ", ".join(targets)
        return ", ".join(
            f"{to} (by {' or '.join(sorted(self.transitions[(from_status, to)]))})"
            for to in targets
        )

    def refuse(self, obj, to_status, reason=None):
        """The Conflict for a step not allowed from `obj`'s status, naming the allowed ones."""
        frm = obj.status
        allowed = [to for to in self.allowed(frm) if to != to_status or reason is None]
        if self.action_labels:
            message = (
                f"Cannot {self.action_labels[to_status]} a {self.noun} who is {frm}; "
                f"allowed actions: {self.describe(frm, allowed)}."
            )
        else:
            article = "An" if self.noun[:1] in "aeiou" else "A"
            reason = reason or f"{article} {self.noun} cannot go from '{frm}' to '{to_status}'."
            message = f"{reason} Allowed from '{frm}': {self.describe(frm, allowed)}."
        return Conflict(message, status=frm, allowed_transitions=allowed)

    def start(self, *, by, status=None, at=None, **fields):
        """Create, validate and save an object in `status` (the first one by default) at
        version 1, with its first history row (held as its history: reading it costs no
        query); the caller publishes its event in the same transaction."""
        obj = self.model(status=status or self.statuses.values[0], version=1, **fields)
        # A related object passed as an instance was loaded, so it exists: checking it
        # again would cost a query each (the database's foreign keys remain the backstop).
        obj.full_clean(
            exclude=[
                f.name for f in obj._meta.concrete_fields if f.is_relation and f.is_cached(obj)
            ]
        )
        # Inside the caller's transaction no savepoint is needed: an error rolls it back.
        with transaction.atomic(savepoint=False):
            obj.save()
            change = obj.record_status("", by=by, at=at or timezone.now())
        obj.history_known([change])
        return obj

    def step(self, obj, to_status, *, actor=ANYONE, expected_version=None, now=None):
        """Check a step on a locked `obj` and apply it to status and version (unsaved);
        returns the status it came from."""
        if expected_version is not None and expected_version != obj.version:
            raise Conflict(
                f"The {self.noun} has changed (version {obj.version}, you sent "
                f"{expected_version}); reload it and try again.",
                version=obj.version,
            )
        frm = obj.status
        actors = self.transitions.get((frm, to_status))
        if actors is None:
            raise self.refuse(obj, to_status)
        if actor not in actors and ANYONE not in actors:
            # A step the role takes elsewhere but not here (guards future table edits).
            raise PermissionDenied(f"You may not move this {self.noun} to '{to_status}'.")
        guard = self.guards.get(to_status)
        if guard is not None and not guard.allows(obj, now or timezone.now()):
            raise self.refuse(obj, to_status, reason=guard.reason)
        obj.status = to_status
        obj.version += 1
        return frm

    def transition(
        self,
        obj,
        to_status,
        *,
        user,
        actor=ANYONE,
        note="",
        expected_version=None,
        check_access=None,
        apply=None,
        fields=(),
    ):
        """Lock `obj`, check who acts (`check_access(obj)`), take the step, let `apply(obj,
        now)` set the step's own fields (named in `fields`), save, and record the history
        row. Returns (obj, history row); the caller publishes its event in the same
        transaction."""
        with transaction.atomic():
            obj = self.model.objects.select_for_update().get(pk=obj.pk)
            if check_access is not None:
                check_access(obj)
            now = timezone.now()
            frm = self.step(obj, to_status, actor=actor, expected_version=expected_version, now=now)
            if apply is not None:
                apply(obj, now)
            obj.save(update_fields=["status", "version", "updated_at", *fields])
            change = obj.record_status(frm, by=user, at=now, note=note)
        return obj, change


def status_fields(statuses):
    """The (from_status, to_status) fields of a StatusChange, with the workflow's choices."""
    return (
        models.CharField(max_length=16, choices=statuses.choices, blank=True),
        models.CharField(max_length=16, choices=statuses.choices),
    )


class StatusChange(models.Model):
    """One step of a workflow: who moved the object, from where to where, and when.

    A concrete model adds the foreign key to its object (related_name="history") and
    sets `from_status, to_status = status_fields(its statuses)`."""

    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField()
    note = text_field(NOTE_MAX_LENGTH, blank=True)

    class Meta:
        abstract = True
        ordering = ["changed_at", "id"]
        verbose_name = "status change"

    def __str__(self):
        return f"{self.from_status or '-'} → {self.to_status}"


class WorkflowModel(models.Model):
    """An object with a status moved by a Workflow: it records its own history rows."""

    class Meta:
        abstract = True

    def history_known(self, changes):
        """Hold `changes` as this object's history, as a prefetch would: an answer built
        from the object in hand (a create's) then reads no history. The next
        record_status() drops them (Django's related manager clears a prefetch it adds to)."""
        history = self.history.all()
        history._result_cache = list(changes)
        history._prefetch_done = True
        cache = self.__dict__.setdefault("_prefetched_objects_cache", {})
        cache[self.history.field.remote_field.cache_name] = history

    def record_status(self, from_status, *, by, at, note=""):
        return self.history.create(
            from_status=from_status,
            to_status=self.status,
            changed_by=by,
            changed_at=at,
            note=note or "",
        )
