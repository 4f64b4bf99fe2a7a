"""The flows' parameters, generated from the run parameters declared in core.settings.

Prefect builds a deployment's parameter schema, and through it the UI's run form, from a flow
function's signature and the `Args:` section of its docstring (its parser keeps a description
there, where one in `Annotated[..., Field(description=...)]` is lost). Both are generated here
from each setting's type, default, limits and description, so a parameter is declared once.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import Field
from pydantic.fields import FieldInfo

from core.settings import ENV_PREFIX, PROJECT_ROOT, RunParameter

F = TypeVar("F", bound=Callable[..., Any])

# The teardown's own parameters, beside the run parameters that address a cluster.
TEARDOWN_PARAMETERS: dict[str, FieldInfo] = {
    "run_id": FieldInfo.from_annotated_attribute(
        str | None, Field(None, description="only what the flow run with this id created")
    ),
    "wipe": FieldInfo.from_annotated_attribute(
        bool, Field(False, description="local target: also delete the warehouse's data")
    ),
}


def _filled(field: FieldInfo) -> bool:
    """Whether the form shows the declared default: a value, not a path of the deploying machine."""
    return field.default is not None and not isinstance(field.default, Path)


def _parameter(name: str, field: FieldInfo) -> inspect.Parameter:
    limits = [m for m in field.metadata if not isinstance(m, RunParameter)]
    if _filled(field):
        # Pre-filled in the form; a user only changes what differs.
        annotation, default = field.annotation, field.default
    else:
        # Empty in the form: the SPARKIFY_* variable or the declared default applies.
        annotation, default = field.annotation | None, None
    if limits:
        annotation = Annotated[(annotation, *limits)]
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


def describe(name: str, field: FieldInfo, variable: bool = True) -> str:
    """A flag's one-line help: its description, its default and, for a setting, its variable."""
    notes = [f"default {shown(field.default)}"] if field.default not in (None, False) else []
    notes += [f"env {ENV_PREFIX}{name.upper()}"] if variable else []
    return f"{field.description} ({'; '.join(notes)})" if notes else str(field.description)


def describe_parameter(name: str, field: FieldInfo) -> str:
    """A flow parameter's one-line description, for the UI's run form."""
    if _filled(field):
        return field.description or name
    fallback = f", else {shown(field.default)}" if field.default is not None else ""
    return f"{field.description} (if empty: {ENV_PREFIX}{name.upper()} if set{fallback})"


def shown(value: Any) -> str:
    """A value as a user would type it: a path inside the project relative to it."""
    try:
        return str(value.relative_to(PROJECT_ROOT))
    except (AttributeError, ValueError):
        return str(value)


def takes(parameters: dict[str, FieldInfo]) -> Callable[[F], F]:
    """Give a `**parameters` function the signature and `Args:` docstring of `parameters`."""

    def decorate(fn: F) -> F:
        fn.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [_parameter(name, field) for name, field in parameters.items()],
            return_annotation=inspect.signature(fn).return_annotation,
        )
        args = "\n".join(f"    {name}: {describe_parameter(name, field)}" for name, field in parameters.items())
        fn.__doc__ = f"{inspect.cleandoc(fn.__doc__ or '')}\n\nArgs:\n{args}\n"
        return fn

    return decorate
