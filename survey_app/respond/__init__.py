"""Respondent pages: personal links, the open link, the answer journey, and the opt-out pages."""
