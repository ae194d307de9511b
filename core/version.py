"""The version of Parvis: the one source (the package metadata reads it, ``parvis --version`` and the console
sidebar show it). Bump it for each release; see docs/operations.md, "Upgrades"."""

__version__ = "0.9.0"
