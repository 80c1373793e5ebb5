"""Package discovery for minigan (everything else is in pyproject.toml).

The top-level ``kernels/`` folder is installed as the sub-package ``minigan.kernels``, so an install
never puts a generic top-level ``kernels`` module on a user's path. Works for editable and wheel installs
alike.
"""

from setuptools import find_packages, setup

packages = find_packages(include=["minigan", "minigan.*"])
packages += ["minigan.kernels"] + ["minigan.kernels." + p for p in find_packages("kernels")]

setup(packages=packages, package_dir={"minigan.kernels": "kernels"})
