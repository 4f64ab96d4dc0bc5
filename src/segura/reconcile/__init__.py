"""Reconcile: link the records of the same victim across (and within) institutions with Splink."""
