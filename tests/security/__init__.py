"""Security findings of issue #15: one test per finding, each failing on the code before its fix."""
