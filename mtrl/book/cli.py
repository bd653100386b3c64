"""The ``mtrl`` command: list the chapters, show their parameters, re-run one.

    mtrl chapters                       the chapters of the book
    mtrl params 03_theorem              a chapter's parameters, with defaults and meaning
    mtrl run 03_theorem -p d 60 -p T 5  re-run it into _build/runs/03_theorem/<time>/

Run it from the repository's root (it reads the chapters in ``book/``). Errors are one line
on standard error, with exit status 2 for a refused command and 1 for a failed run.
"""

from __future__ import annotations

import argparse
import sys

from .rerun import (
    RunError,
    RunFailed,
    chapter_parameters,
    chapters,
    parse_overrides,
    run_chapter,
)

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mtrl", description=__doc__.split("\n\n")[0])
    parser.add_argument("--book", default="book", help="the book's folder (default: book)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("chapters", help="list the chapters")
    params = commands.add_parser("params", help="list a chapter's parameters")
    params.add_argument("chapter")
    run = commands.add_parser("run", help="re-run a chapter with other parameters")
    run.add_argument("chapter")
    run.add_argument(
        "-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
        help="set a parameter (repeatable), as papermill's -p",
    )  # fmt: skip
    run.add_argument("--runs", default="_build/runs", help="where runs go (default: _build/runs)")
    return parser


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "chapters":
            for name in chapters(args.book):
                print(name)
        elif args.command == "params":
            for name, p in chapter_parameters(args.chapter, args.book).items():
                print(f"{name:16s} {p['inferred_type_name']:6s} {p['default']:>10s}  {p['help']}")
        else:
            parse_overrides(args.chapter, args.parameter, args.book)  # refuse bad input first
            print(f"running {args.chapter} ...", file=sys.stderr)
            run = run_chapter(args.chapter, args.parameter, book=args.book, runs=args.runs)
            print(f"wrote {run}/index.html (and the notebook, its figures and its log)")
    except RunError as error:
        print(f"mtrl: {error}", file=sys.stderr)
        return 1 if isinstance(error, RunFailed) else 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
