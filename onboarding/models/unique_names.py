"""Tenant names and calling domains: one wording for a clash, however it is found."""

from __future__ import annotations

from collections.abc import Collection
from typing import ClassVar


class UniqueNameCheckedInClean:
    """Mixed into a model whose clean() checks its unique name and names the other owner.

    Validation's own check of the unique constraint runs a moment later and would repeat it with
    vaguer words, keyed to no field, when another staff member's save commits in between. So it
    is left out; that late clash reaches the constraint at insert instead, and
    `services/tenant_creation.py` answers it with clean()'s words.
    """

    unique_name_field: ClassVar[str]

    def validate_constraints(self, exclude: Collection[str] | None = None) -> None:
        super().validate_constraints({*(exclude or ()), self.unique_name_field})  # type: ignore[misc]
