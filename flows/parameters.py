"""The flows' parameters, generated from the run parameters declared in core.settings.

Prefect builds a deployment's parameter schema, and through it the UI's run form, from a flow
function's signature and the `Args:` section of its docstring. Both are generated here from each
setting's type, limits and description, so a parameter is declared once.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from pydantic.fields import FieldInfo

from core.settings import ENV_PREFIX, PROJECT_ROOT, RunParameter

F = TypeVar("F", bound=Callable[..., Any])


def _parameter(name: str, field: FieldInfo) -> inspect.Parameter:
    limits = [m for m in field.metadata if not isinstance(m, RunParameter)]
    if field.annotation is bool:
        # A switch in the form; it overrides its SPARKIFY_* variable either way.
        annotation, default = bool, field.default
    else:
        # Empty in the form: the SPARKIFY_* variable or the declared default applies.
        annotation, default = field.annotation | None, None
    if limits:
        annotation = Annotated[(annotation, *limits)]
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


def describe(name: str, field: FieldInfo) -> str:
    """A parameter's one-line help: its description, its default and its variable."""
    default = f"default {shown(field.default)}; " if field.default not in (None, False) else ""
    return f"{field.description} ({default}env {ENV_PREFIX}{name.upper()})"


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
        args = "\n".join(f"    {name}: {describe(name, field)}" for name, field in parameters.items())
        fn.__doc__ = f"{inspect.cleandoc(fn.__doc__ or '')}\n\nArgs:\n{args}\n"
        return fn

    return decorate
