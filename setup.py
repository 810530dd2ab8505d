"""Build shim: the metadata lives in setup.cfg; here the package layout and the optional C accelerator.

The source tree keeps the bundled plugins in the top-level folder plugins/, but they install as
the package ``octoserve_plugins``: a top-level ``plugins`` in site-packages would clash with any
other project that ships one.
"""
from setuptools import Extension, find_packages, setup

setup(
    packages=find_packages(include=["octoserve", "octoserve.*"])
    + ["octoserve_plugins"] + [f"octoserve_plugins.{name}" for name in find_packages("plugins")],
    package_dir={"octoserve_plugins": "plugins"},
    ext_modules=[
        # optional: without a compiler the build goes on, and the analysis runs its pure-Python twin.
        Extension("octoserve.files.analysis._speedups", ["octoserve/files/analysis/_speedups.c"], optional=True,
                  extra_compile_args=["-ffp-contract=off"]),  # no fused multiply-add: same doubles as Python
    ],
)
