"""Build shim: all metadata lives in setup.cfg; here only the optional C accelerator of the G-code analysis."""
from setuptools import Extension, setup

setup(ext_modules=[
    # optional: without a compiler the build goes on, and the analysis runs its pure-Python twin.
    Extension("octoserve.files.analysis._speedups", ["octoserve/files/analysis/_speedups.c"], optional=True,
              extra_compile_args=["-ffp-contract=off"]),  # no fused multiply-add: same doubles as Python
])
