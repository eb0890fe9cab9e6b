from __future__ import annotations

import subprocess
import sys


def test_nb101_imports_no_torch_and_no_configspace() -> None:
    code = (
        "import sys, eabench, eabench.spaces.nb101 as nb; nb.Cell([[0, 1], [0, 0]], [-1, -2]); "
        "print('torch' in sys.modules, 'ConfigSpace' in sys.modules); "
        "import eabench.spaces.nb101_configspace; print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "False"]
