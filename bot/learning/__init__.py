"""Learning: turning usage reports into evidence-backed suggestions."""
