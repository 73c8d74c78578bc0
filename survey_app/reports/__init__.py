"""The published web version of a survey's results summary, at a public unguessable address."""
