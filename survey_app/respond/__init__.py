"""Public pages reached by a secret link: personal and resume links, the open link, opt-outs, a published report."""
