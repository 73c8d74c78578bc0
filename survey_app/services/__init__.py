"""Typed service functions shared by views, CLI commands and jobs; they own the commits."""
