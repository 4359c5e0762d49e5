"""Implemented activities, participants, outputs and lessons learned (a later issue)."""
