"""Which packages the distribution holds; everything else is in pyproject.toml.

pyproject.toml alone cannot say it: setuptools' `find` does not add a package that
`package-dir` maps elsewhere. The prompts stay in the top-level `prompts/` folder (data
the coach edits) and are installed as the package `facilitator.prompts_data`, read by
facilitator/prompts.py through importlib.resources.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["facilitator", "facilitator.*"]) + ["facilitator.prompts_data"],
    package_dir={"facilitator.prompts_data": "prompts"},
)
