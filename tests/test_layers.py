"""The package's layers import one way only, and no modules import each other in a cycle.

- ``releasetag.protocol``: imports only itself (and ``releasetag._version``), and holds wire
  facts and name rules only: it reads no environment variable, no file and no git;
- ``releasetag.detect`` (release and environment detection, git HEAD, switches from
  variables) and ``releasetag.net`` (the one HTTP client layer): themselves + protocol;
- the runtime SDK (the package root, ``transport/``, ``integrations/``): itself + protocol,
  detect and net;
- ``releasetag.build``: itself + protocol, detect and net, never the SDK internals;
- ``releasetag.collector``: itself, protocol, detect and the artifact readers
  (``build/artifacts`` but its uploader, which talks to the Web API and so counts as build);
- ``releasetag.cli``: anything; nothing but ``releasetag.__main__`` imports it.

Every import counts, at module level or inside a function (a lazy import is still a
dependency); only ``if TYPE_CHECKING:`` blocks are left out.
"""

from __future__ import annotations

import ast
import pathlib
from typing import Dict, Iterator, List, Set, Tuple

SRC = pathlib.Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "releasetag"
SHARED = ("releasetag._version",)

ALLOWED: Dict[str, Tuple[str, ...]] = {
    "protocol": ("protocol",),
    "detect": ("detect", "protocol"),
    "net": ("net", "protocol"),
    "runtime": ("runtime", "protocol", "detect", "net"),
    "build": ("build", "artifacts", "protocol", "detect", "net"),
    "artifacts": ("artifacts", "protocol", "detect"),
    "collector": ("collector", "protocol", "detect", "artifacts"),
    "cli": ("cli", "runtime", "protocol", "detect", "net", "build", "artifacts", "collector"),
    "main": ("cli",),
}


def layer_of(module: str) -> str:
    parts = module.split(".")
    if module == "releasetag.__main__":
        return "main"
    if module == "releasetag.build.artifacts.upload":
        return "build"
    if len(parts) > 2 and parts[1] == "build" and parts[2] == "artifacts":
        return "artifacts"
    if len(parts) > 1 and parts[1] in ("protocol", "detect", "net", "build", "collector", "cli"):
        return parts[1]
    return "runtime"


def _modules() -> Dict[str, pathlib.Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(SRC).with_suffix("")
        name = ".".join(rel.parts)
        out[name[: -len(".__init__")] if name.endswith(".__init__") else name] = path
    return out


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> Iterator[ast.stmt]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        yield from _import_nodes(node)


def _known(name: str) -> str:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def imports_of(module: str) -> Set[str]:
    """The releasetag modules ``module`` imports (a package's ``__init__`` counts as itself)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: Set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(_known(a.name) for a in node.names if a.name.startswith("releasetag"))
            continue
        assert isinstance(node, ast.ImportFrom)
        if node.level:
            base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        if not target.startswith("releasetag"):
            continue
        for alias in node.names:
            full = f"{target}.{alias.name}"
            found.add(full if full in MODULES else _known(target))
    found.discard(module)
    found.discard("")
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def test_the_walk_sees_the_imports_it_judges():
    # a check that found no imports would pass for the wrong reason
    assert "releasetag.protocol.dsn" in GRAPH["releasetag.client"]
    assert "releasetag.build.config" in GRAPH["releasetag.cli.apiargs"]
    assert "releasetag.build.artifacts.debugfiles" in GRAPH["releasetag.collector.uploads"]
    assert layer_of("releasetag.transport.http_transport") == "runtime"
    assert layer_of("releasetag.build.artifacts.formats.elf") == "artifacts"


def test_imports_go_one_way():
    wrong: List[str] = []
    for module, targets in sorted(GRAPH.items()):
        layer = layer_of(module)
        for target in sorted(targets):
            if target in SHARED:
                continue
            if layer_of(target) not in ALLOWED[layer]:
                wrong.append(f"{module} ({layer}) imports {target} ({layer_of(target)})")
    assert wrong == []


def _cycles() -> List[List[str]]:
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    found: List[List[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(GRAPH[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycles():
    # the package root re-exports the API: modules below it import their siblings, not it
    assert _cycles() == []


def test_the_cycle_check_finds_a_cycle():
    GRAPH["releasetag.protocol.dsn"].add("releasetag.protocol.envelope")
    GRAPH["releasetag.protocol.envelope"].add("releasetag.protocol.dsn")
    try:
        assert ["releasetag.protocol.dsn", "releasetag.protocol.envelope"] in _cycles()
    finally:
        GRAPH["releasetag.protocol.dsn"].discard("releasetag.protocol.envelope")
        GRAPH["releasetag.protocol.envelope"].discard("releasetag.protocol.dsn")


def test_protocol_holds_wire_facts_only():
    """protocol/ reads no environment variable, no file and no git repository: detection
    lives in detect/, the HTTP layer (proxies and CA bundles from the environment) in net/."""
    found = []
    for module, path in MODULES.items():
        if layer_of(module) != "protocol":
            continue
        text = path.read_text()
        for word in ("os.environ", "os.getenv", "import git", "open(", "subprocess"):
            if word in text:
                found.append(f"{module}: {word}")
    assert found == []
