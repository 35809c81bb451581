"""keep_freed_memory: in a fresh process with one PyTorch thread, a 256 px convolution batch faults in its
outputs' pages afresh every time without it, and at least four times fewer pages once it is called."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

SCRIPT = """
import resource, torch
from handclip.memory import keep_freed_memory
torch.set_num_threads(1)
conv = torch.nn.Conv2d(3, 8, 3, padding=1)
images = torch.rand(16, 3, 256, 256)  # outputs of 32 MB: 8192 pages each

def faults_of_a_batch() -> int:
    for _ in range(3):
        conv(images).relu()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    conv(images).relu()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

with torch.inference_mode():
    plain = faults_of_a_batch()
    kept = keep_freed_memory()
    print(kept, plain, faults_of_a_batch())
"""


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_batches_reuse_freed_pages():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True).stdout.split()
    kept, plain, after = out[0], int(out[1]), int(out[2])
    assert kept == "True" and plain >= 2 * 8192 and after <= plain / 4, (plain, after)
