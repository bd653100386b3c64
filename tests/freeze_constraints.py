"""Write constraints.txt: the exact versions of the book and test toolchain in this venv.

Run by ``make constraints`` in a venv where ``make book-check browser-check test`` pass. It is
``pip freeze`` narrowed to what ``mtrl[book,test]`` needs, followed through the installed
packages' own requirements, less torch and whatever only torch needs (sympy, networkx, ...):
torch is the user's choice, and its own pins must not clash with ours. mtrl itself is left out.
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, distribution

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT, EXTRAS, LEFT_OUT = "mtrl", ("book", "test"), {"torch"}

HEADER = """\
# The book's and the tests' toolchain, pinned: `make install` installs mtrl[book,test] with
# `-c constraints.txt`. torch is left out on purpose (the user's choice, installed first by
# TORCH_SPEC), and so is what only torch needs (sympy, networkx, ...). Written by
# tests/freeze_constraints.py from a venv on CPython {python} ({platform}); some of these
# versions need Python >= 3.11. Regenerate after changing pyproject.toml's dependencies or
# upgrading a tool in .venv, once `make test` passes there:
#     make constraints
"""


def closure() -> dict[str, str]:
    """Return {name: version} of every installed package that ``ROOT[EXTRAS]`` needs."""
    found: dict[str, str] = {}
    todo = [(ROOT, EXTRAS)]
    seen: set[tuple[str, str]] = set()
    while todo:
        name, extras = todo.pop()
        dist = distribution(name)
        for text in dist.requires or []:
            requirement = Requirement(text)
            wanted = canonicalize_name(requirement.name)
            if wanted in LEFT_OUT:
                continue
            marker = requirement.marker
            if marker and not any(marker.evaluate({"extra": e}) for e in ("", *extras)):
                continue
            try:
                version = distribution(wanted).version
            except PackageNotFoundError:
                continue  # an optional requirement (a platform's) that is not installed here
            found[wanted] = version
            for extra in ("", *sorted(requirement.extras)):
                if (wanted, extra) not in seen:
                    seen.add((wanted, extra))
                    todo.append((wanted, (extra,) if extra else ()))
    found.pop(canonicalize_name(ROOT), None)
    return found


def main() -> int:
    pins = closure()
    python = ".".join(map(str, sys.version_info[:2]))
    header = HEADER.format(python=python, platform=sys.platform)
    sys.stdout.write(header + "".join(f"{n}=={v}\n" for n, v in sorted(pins.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
