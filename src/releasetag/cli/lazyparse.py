"""Sub-commands whose arguments are added only when they are used.

A pipeline step runs one command; building the parsers of all its siblings costs more than
parsing (each ``add_argument`` makes a help formatter). ``add_lazy(actions, name, fill,
**kwargs)`` adds the parser at once (so help lists it and a typo is refused with the list of
choices) and calls ``fill(parser)`` the first time argparse looks the parser up.

``Formatter`` is argparse's help formatter without the import of ``shutil`` (and so of bz2,
lzma and fnmatch) that argparse does for every parser to learn the terminal width.
"""

from __future__ import annotations

import argparse
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict


class Formatter(argparse.HelpFormatter):
    def __init__(self, prog: str, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("width") is None and len(args) < 2:
            kwargs["width"] = _columns() - 2
        super().__init__(prog, *args, **kwargs)


def _columns() -> int:
    """The terminal width as ``shutil.get_terminal_size`` finds it (COLUMNS, the tty, 80)."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(2).columns
        except (OSError, ValueError):
            columns = 80
    return columns or 80


class _LazyChoices(dict):
    """argparse's name -> parser map, filling a parser when it is first looked up."""

    def __init__(self, existing: Dict[str, Any]) -> None:
        super().__init__(existing)
        self.fillers: Dict[str, Callable[[Any], None]] = {}

    def __getitem__(self, name: str) -> Any:
        parser = super().__getitem__(name)
        fill = self.fillers.pop(name, None)
        if fill is not None:
            fill(parser)
        return parser


def add_lazy(actions: Any, name: str, fill: Callable[[Any], None], **kwargs: Any) -> Any:
    """``actions.add_parser(name, **kwargs)`` whose arguments ``fill`` adds on first use."""
    parser = actions.add_parser(name, **kwargs)
    choices = actions._name_parser_map
    if not isinstance(choices, _LazyChoices):
        choices = _LazyChoices(choices)
        actions._name_parser_map = actions.choices = choices
    choices.fillers[name] = fill
    return parser


__all__ = ["Formatter", "add_lazy"]
