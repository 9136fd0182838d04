"""No import cycles inside iso8583, counting imports hidden in functions or TYPE_CHECKING
(issue 7: codec/spec/composite used to import each other from inside functions)."""

from __future__ import annotations

import grimp

from tests.test_architecture import _cycles


def test_no_module_cycles_in_iso8583():
    graph = grimp.build_graph("iso8583")
    modules = sorted(graph.modules)
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in modules}
    assert _cycles(modules, edges) == []


def test_the_codec_layers_point_one_way():
    """fieldspec <- fields <- composite <- codec <- spec: the dialect sits on the codec."""
    graph = grimp.build_graph("iso8583")
    order = ["iso8583.fieldspec", "iso8583.fields", "iso8583.composite", "iso8583.codec"]
    for lower_index, lower in enumerate(order):
        for upper in [*order[lower_index + 1 :], "iso8583.spec"]:
            assert not graph.direct_import_exists(importer=lower, imported=upper), (lower, upper)
