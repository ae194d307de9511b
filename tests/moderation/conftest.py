"""Fixtures: a tiny XLM-R sentiment model built and fine-tuned offline (once per test session)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A 2-layer XLM-R with negative/neutral/positive labels, trained on 8 sentences (deterministic)."""
    from moderation.devmodels import build_xlmr, fit_tiny

    path = tmp_path_factory.mktemp("models") / "tiny-xlmr"
    build_xlmr(path)
    fit_tiny(path)
    return path
