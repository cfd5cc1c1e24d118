"""README.md's code is what a seller copies into their main: it must compile and import only what the package exports."""

from __future__ import annotations

import ast
import re
import unittest

import marketplace_entitlement

from .support import PORT


class Readme(unittest.TestCase):
    def test_the_main_block_compiles_and_imports_exported_names(self) -> None:
        readme = (PORT / "README.md").read_text()
        blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
        self.assertEqual(len(blocks), 1)
        tree = ast.parse(blocks[0])
        imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module == "marketplace_entitlement" for alias in node.names]
        self.assertEqual(sorted(imported), ["EntitlementError", "ensure_entitled"])
        for name in imported:
            self.assertIn(name, marketplace_entitlement.__all__)
        compile(blocks[0], "README.md", "exec")


if __name__ == "__main__":
    unittest.main()
