"""Where suggestions become proposals: local branches or GitHub pull requests, and feedback."""
