"""Fast-start onboarding profiles."""
