"""The import graph (docs/architecture.md): the import-linter contracts of pyproject.toml hold, and no module of
the product imports itself back through others; function-level imports count (grimp sees them), so none can
hide a cycle."""
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

from portal import dispatch

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("portal", "audit", "automations", "reviews", "operations", "demo", "leitstand")


def _cycles(graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), migrations left out."""
    modules = sorted(m for m in graph.modules if ".migrations" not in m)
    edges = {m: sorted(n for n in graph.find_modules_directly_imported_by(m) if ".migrations" not in n)
             for m in modules}
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(module):
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in edges[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in modules:
        if module not in index:
            visit(module)
    return found


def test_no_import_cycle_between_the_products_modules():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    assert _cycles(graph) == []


def test_the_cycle_check_finds_a_cycle(tmp_path, monkeypatch):
    package = tmp_path / "cyclic"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from cyclic import b\n")  # hidden in a function
    (package / "b.py").write_text("from cyclic import a\n")
    (package / "c.py").write_text("from cyclic import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _cycles(grimp.build_graph("cyclic", cache_dir=None)) == [["cyclic.a", "cyclic.b"]]


def test_import_linter_contracts_are_kept():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


# App machinery, outside the layers: configuration, the Celery application, servers' entry points, app configs.
OUTSIDE_THE_LAYERS = {"portal.settings", "portal.celery", "portal.wsgi", "portal.asgi"}


def _layered_modules() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["id"] == "product-layers")
    return [name.strip() for layer in contract["layers"] for name in re.split(r"[:|]", layer) if name.strip()]


def test_every_module_of_the_product_has_its_layer():
    """A module the contract does not name is checked by nobody: a new module is placed in a layer."""
    layered = _layered_modules()
    graph = grimp.build_graph(*(p for p in PACKAGES if p != "demo"), cache_dir=None)
    unplaced = sorted(
        module for module in graph.modules
        if ".migrations" not in module and module not in OUTSIDE_THE_LAYERS and not module.endswith(".apps")
        and not graph.find_children(module)  # a package's own __init__ holds no code of its own here
        and not any(module == name or module.startswith(name + ".") for name in layered))
    assert unplaced == []


def test_every_announcement_that_must_be_acted_upon_has_a_handler():
    events = dispatch.declared()
    for name in ("use_case.suspended", "use_case.status_changed", "work_item.routed", "work_item.failed"):
        assert events[name][2], f"nobody handles {name}"
    assert events["work_item.routed"][2] == ["reviews.handlers.on_work_item_routed"]


def test_the_dispatcher_refuses_what_was_not_declared_and_announcements_nobody_handles():
    with pytest.raises(dispatch.DispatchError):
        dispatch.emit("no.such_event")
    with pytest.raises(dispatch.DispatchError):
        dispatch.connect("no.such_event", print)
    dispatch.declare("test.required_announcement", "declared by a test", required=True)
    try:
        with pytest.raises(dispatch.DispatchError, match="nobody handles"):
            dispatch.emit("test.required_announcement")
        with pytest.raises(dispatch.DispatchError, match="declared twice"):
            dispatch.declare("test.required_announcement", "again")
        seen = []
        dispatch.connect("test.required_announcement", lambda **kw: seen.append(kw))
        dispatch.emit("test.required_announcement", value=1)
        assert seen == [{"value": 1}]
    finally:
        dispatch._EVENTS.pop("test.required_announcement")
