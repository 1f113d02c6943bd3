"""Care recipients (the elders) and their assessments: who owns them, who may see them.

Identifiers are stored encrypted (``respite.crypto``) and shown as their last four characters.
"""

__all__: list[str] = []
