"""Territorial analysis: spatial weights, local clusters, emerging hot spots, points, prioritisation and positive deviance."""
