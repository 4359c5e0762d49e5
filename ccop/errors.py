"""The two errors the domain API raises. Both are `ValidationError`s so every way in (view,
admin, import, command) can show `.messages` to the person without a stack trace."""

from django.core.exceptions import ValidationError


class RuleViolation(ValidationError):
    """A rule of DESIGN.md refuses the change (two-grantee, ceiling, workflow, freeze...)."""


class NotAllowed(RuleViolation):
    """The acting user's role or affiliation does not allow this action (incl. conflicts)."""

    def __init__(self, message, code="not_allowed", params=None):
        super().__init__(message, code=code, params=params)


class StaleEdit(RuleViolation):
    """Someone else saved the same record after this person loaded it."""

    def __init__(self, message, code="stale", params=None):
        super().__init__(message, code=code, params=params)
