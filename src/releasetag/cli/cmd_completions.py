"""``releasetag completions bash|zsh|fish``: a completion script for the shell, made from the
parser itself (commands, their actions and flags)."""

from __future__ import annotations

import argparse
import sys
from typing import Any, Dict, List


def register(sub: Any) -> None:
    p = sub.add_parser("completions", help="print a shell completion script (bash, zsh, fish)")
    p.add_argument("shell", choices=("bash", "zsh", "fish"), help="the shell")
    p.set_defaults(func=cmd_completions)


def _tree() -> Dict[str, List[str]]:
    """Command -> its actions and flags, from every registered parser."""
    from .main import build_parser

    parser = build_parser()
    out: Dict[str, List[str]] = {"": []}
    for action in parser._actions:
        out[""] += [o for o in action.option_strings if o.startswith("--")]
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out[""].append(name)
                words: List[str] = []
                for a in sub._actions:
                    words += [o for o in a.option_strings if o.startswith("--")]
                    if isinstance(a, argparse._SubParsersAction):
                        words += list(a.choices)
                out[name] = sorted(set(words))
    return out


def cmd_completions(args: argparse.Namespace) -> int:
    tree = _tree()
    top = " ".join(sorted(set(tree.pop(""))))
    if args.shell == "bash":
        cases = "".join(f'        {k}) words="{" ".join(v)}" ;;\n' for k, v in sorted(tree.items()))
        script = (
            "_releasetag() {\n"
            '    local cur="${COMP_WORDS[COMP_CWORD]}" words\n'
            '    case "${COMP_WORDS[1]}" in\n'
            f"{cases}"
            f'        *) words="{top}" ;;\n'
            "    esac\n"
            '    [ "$COMP_CWORD" -eq 1 ] && words="' + top + '"\n'
            '    COMPREPLY=($(compgen -W "$words" -- "$cur"))\n'
            "}\n"
            "complete -F _releasetag releasetag\n"
        )
    elif args.shell == "zsh":
        cases = "".join(f"    {k}) compadd -- {' '.join(v)} ;;\n" for k, v in sorted(tree.items()))
        script = (
            "#compdef releasetag\n"
            "_releasetag() {\n"
            f"  if (( CURRENT == 2 )); then compadd -- {top}; return; fi\n"
            "  case $words[2] in\n"
            f"{cases}"
            "  esac\n"
            "}\n"
            "compdef _releasetag releasetag\n"
        )
    else:
        lines = [f"complete -c releasetag -f -n '__fish_use_subcommand' -a '{top}'"]
        lines += [
            f"complete -c releasetag -f -n '__fish_seen_subcommand_from {k}' -a '{' '.join(v)}'"
            for k, v in sorted(tree.items())
            if v
        ]
        script = "\n".join(lines) + "\n"
    sys.stdout.write(script)
    return 0
