"""Bare apps served exactly like survey_app, so every figure is a ratio to the same machine's floor."""
