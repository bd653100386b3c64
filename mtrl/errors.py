"""The one error type of mtrl, and the checks that raise it.

Every public function validates its inputs before doing any work, and names the
parameter and the range it expected: ``r must be <= d, got r=12, d=10``.
"""

from __future__ import annotations

import math
import numbers

__all__ = [
    "ConvergenceError",
    "ParameterError",
    "check_choice",
    "check_float",
    "check_int",
    "check_ints",
    "check_le",
]


class ParameterError(ValueError):
    """A parameter is out of its range, of the wrong type, or inconsistent with another."""


class ConvergenceError(RuntimeError):
    """An iterative solver did not reach its stated tolerance; the message says what to change."""


def check_int(name: str, value: object, *, low: int = 1) -> int:
    """Return ``value`` if it is an integer ``>= low``, else raise ``ParameterError``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ParameterError(f"{name} must be an integer >= {low}, got {name}={value!r}")
    if value < low:
        raise ParameterError(f"{name} must be an integer >= {low}, got {name}={value}")
    return int(value)


def check_ints(*, low: int = 1, **values: object) -> None:
    """Check every keyword value with :func:`check_int` at the same bound ``low``, in order."""
    for name, value in values.items():
        check_int(name, value, low=low)


def check_float(
    name: str,
    value: object,
    *,
    low: float = 0.0,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a float if it is finite and in the stated interval."""
    left, right = ("(" if low_open else "["), (")" if high_open else "]")
    expected = f"a finite number in {left}{low}, {high}{right}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterError(f"{name} must be {expected}, got {name}={value!r}")
    v = float(value)
    too_low = v <= low if low_open else v < low
    too_high = v >= high if high_open else v > high
    if not math.isfinite(v) or too_low or too_high:
        raise ParameterError(f"{name} must be {expected}, got {name}={value!r}")
    return v


def check_choice(name: str, value: object, choices) -> str:
    """Return ``value`` if it is one of ``choices``."""
    if value not in choices:
        raise ParameterError(f"{name} must be one of {sorted(choices)}, got {name}={value!r}")
    return value


def check_le(name: str, value, bound_name: str, bound) -> None:
    """Raise ``ParameterError`` unless ``value <= bound``, naming both: ``r must be <= d``."""
    if not value <= bound:
        raise ParameterError(
            f"{name} must be <= {bound_name}, got {name}={value}, {bound_name}={bound}"
        )
