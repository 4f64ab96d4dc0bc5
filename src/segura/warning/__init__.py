"""Early warning: aberration detection on indicator series, alerts, and the social conflict registry."""
