"""Wikimedia dump mirrors: which dumps are published and finished, and verified, resumable downloads."""
